"""TokenValidator against the real local issuer: what it accepts, what it refuses, key rotation."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from gmirs_runtime.auth import (
    AccessDeniedError,
    InvalidTokenError,
    KeysUnavailableError,
    Principal,
    TokenValidator,
)
from gmirs_runtime.local.issuer import IssuerKeys, generate_signing_key

from .conftest import ISSUER, Forge, GetToken


async def test_accepts_an_issued_token(validator: TokenValidator, get_token: GetToken) -> None:
    principal = await validator.validate(await get_token("writer-client"))

    assert principal == Principal("writer-client", frozenset({"writer", "reader"}), None)
    assert principal.has_any_role("reader", "operator")
    assert not principal.has_any_role("operator")


async def test_tenant_claim_becomes_the_tenant_id(
    validator: TokenValidator, get_token: GetToken
) -> None:
    principal = await validator.validate(await get_token("member-client"))

    assert principal.tenant_id == "blue"
    assert principal.roles == frozenset({"member"})


async def test_tenant_role_without_a_tenant_is_denied(
    validator: TokenValidator, get_token: GetToken
) -> None:
    with pytest.raises(AccessDeniedError):
        await validator.validate(await get_token("teamless-member"))


async def test_rejects_a_token_for_another_audience(
    validator: TokenValidator, get_token: GetToken
) -> None:
    with pytest.raises(InvalidTokenError):
        await validator.validate(await get_token("other-api-client"))


async def test_rejects_a_token_from_another_issuer(
    make_validator: Callable[..., TokenValidator], get_token: GetToken
) -> None:
    validator = make_validator(issuer="https://issuer.example")

    with pytest.raises(InvalidTokenError):
        await validator.validate(await get_token("reader-client"))


async def test_rejects_an_expired_token_beyond_the_leeway(
    validator: TokenValidator, forge: Forge
) -> None:
    now = int(time.time())

    within_leeway = await validator.validate(forge(iat=now - 600, exp=now - 10))
    with pytest.raises(InvalidTokenError):
        await validator.validate(forge(iat=now - 600, exp=now - 60))

    assert within_leeway.client_id == "forged-client"


@pytest.mark.parametrize("missing", ["exp", "iat", "iss", "aud", "sub"])
async def test_rejects_a_token_without_an_essential_claim(
    validator: TokenValidator, forge: Forge, missing: str
) -> None:
    with pytest.raises(InvalidTokenError):
        await validator.validate(forge(**{missing: None}))


async def test_rejects_a_token_not_yet_valid(validator: TokenValidator, forge: Forge) -> None:
    with pytest.raises(InvalidTokenError):
        await validator.validate(forge(nbf=int(time.time()) + 3600))


async def test_rejects_a_token_signed_by_another_key(
    validator: TokenValidator, forge: Forge, issuer_keys: IssuerKeys
) -> None:
    impostor = generate_signing_key()

    with pytest.raises(InvalidTokenError):  # claims the issuer's kid, signature won't verify
        await validator.validate(forge(key=impostor, header={"kid": issuer_keys.current.kid}))
    with pytest.raises(InvalidTokenError):  # its own kid, unknown to the issuer
        await validator.validate(forge(key=impostor))


async def test_rejects_symmetric_and_unsigned_algorithms(validator: TokenValidator) -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "orders-api", "sub": "x", "iat": now, "exp": now + 60}
    hs256 = jwt.encode({"alg": "HS256"}, claims, OctKey.generate_key(256))

    with pytest.raises(InvalidTokenError):
        await validator.validate(hs256)
    with pytest.raises(InvalidTokenError):
        await validator.validate("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
    with pytest.raises(InvalidTokenError):
        await validator.validate("not-a-jwt")


async def test_rejects_roles_that_are_not_a_list_of_strings(
    validator: TokenValidator, forge: Forge
) -> None:
    with pytest.raises(InvalidTokenError):
        await validator.validate(forge(roles="reader"))


async def test_unknown_kid_refetches_the_jwks_after_rotation(
    make_validator: Callable[..., TokenValidator], get_token: GetToken, issuer_keys: IssuerKeys
) -> None:
    validator = make_validator(min_refetch_seconds=0)
    old_token = await get_token("reader-client")
    await validator.validate(old_token)
    assert validator.jwks.fetch_count == 1

    issuer_keys.rotate()
    new_token = await get_token("reader-client")
    principal = await validator.validate(new_token)
    await validator.validate(old_token)  # the retired key is still published

    assert principal.client_id == "reader-client"
    assert validator.jwks.fetch_count == 2


async def test_refetching_is_rate_limited(
    make_validator: Callable[..., TokenValidator], get_token: GetToken, issuer_keys: IssuerKeys
) -> None:
    validator = make_validator(min_refetch_seconds=3600)
    await validator.validate(await get_token("reader-client"))

    issuer_keys.rotate()
    rotated_token = await get_token("reader-client")
    for _ in range(3):
        with pytest.raises(InvalidTokenError):
            await validator.validate(rotated_token)

    assert validator.jwks.fetch_count == 1


async def test_unreachable_jwks_is_reported_as_unavailable(
    make_validator: Callable[..., TokenValidator], get_token: GetToken
) -> None:
    validator = make_validator(jwks_url=ISSUER + "/no-such-jwks")

    with pytest.raises(KeysUnavailableError):
        await validator.validate(await get_token("reader-client"))


async def test_rejects_a_token_living_longer_than_the_maximum(
    make_validator: Callable[..., TokenValidator], forge: Forge
) -> None:
    validator = make_validator(max_lifetime_seconds=900)
    now = int(time.time())
    long_lived = forge(iat=now, exp=now + 901)

    assert (await validator.validate(forge(iat=now, exp=now + 900))).client_id == "forged-client"
    for _ in range(2):  # a refused token is never cached as accepted
        with pytest.raises(InvalidTokenError):
            await validator.validate(long_lived)
    with pytest.raises(InvalidTokenError):  # backdated iat does not shorten the lifetime claimed
        await validator.validate(forge(iat=now - 3000, exp=now + 600))


async def test_the_default_maximum_lifetime_is_one_hour(
    validator: TokenValidator, forge: Forge
) -> None:
    now = int(time.time())

    assert validator.max_lifetime_seconds == 3600
    await validator.validate(forge(iat=now, exp=now + 3600))
    with pytest.raises(InvalidTokenError):
        await validator.validate(forge(iat=now, exp=now + 86400))


async def test_a_tenant_that_is_not_configured_is_denied(
    make_validator: Callable[..., TokenValidator], forge: Forge, get_token: GetToken
) -> None:
    validator = make_validator(known_tenants=("blue", "red"))

    assert (await validator.validate(await get_token("member-client"))).tenant_id == "blue"
    for tenant in ("green", "Blue", "blue ", ""):
        with pytest.raises(AccessDeniedError):
            await validator.validate(forge(roles=["member"], team_id=tenant))
