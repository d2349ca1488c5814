"""Tests of the fakes themselves: a fake that lies makes every test that uses it worthless."""
