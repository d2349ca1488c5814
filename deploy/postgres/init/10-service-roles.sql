-- Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d), as the
-- superuser, connected to POSTGRES_DB (psql's :DBNAME).
--
-- One cluster and one database; each service gets its own login role owning its own schema and
-- nothing else, so no service can read another's tables (the brief: services talk only through
-- Kafka and HTTP). Passwords come from the compose secrets mounted into this container; the
-- services receive the same passwords inside their *_database_url secrets.
\set ON_ERROR_STOP on

\set intake_password `cat /run/secrets/intake_db_password`
\set case_password `cat /run/secrets/case_db_password`
\set metrics_password `cat /run/secrets/metrics_db_password`
\set notify_password `cat /run/secrets/notify_db_password`

-- Nobody but the owners and the service roles may connect; nobody may create in `public`.
REVOKE CONNECT, TEMPORARY ON DATABASE :"DBNAME" FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;

CREATE ROLE gmirs_intake LOGIN PASSWORD :'intake_password';
CREATE ROLE gmirs_case LOGIN PASSWORD :'case_password';
CREATE ROLE gmirs_metrics LOGIN PASSWORD :'metrics_password';
CREATE ROLE gmirs_notify LOGIN PASSWORD :'notify_password';

GRANT CONNECT, TEMPORARY ON DATABASE :"DBNAME" TO gmirs_intake, gmirs_case, gmirs_metrics, gmirs_notify;

-- Schema names avoid SQL keywords (`case` is one), so they never need quoting.
CREATE SCHEMA intake AUTHORIZATION gmirs_intake;
CREATE SCHEMA casework AUTHORIZATION gmirs_case;
CREATE SCHEMA metrics AUTHORIZATION gmirs_metrics;
CREATE SCHEMA notify AUTHORIZATION gmirs_notify;
-- Where `gmirs-metrics rebuild` builds the next generation of the read models beside the live
-- ones (the role may not create schemas itself).
CREATE SCHEMA metrics_rebuild AUTHORIZATION gmirs_metrics;

ALTER ROLE gmirs_intake SET search_path = intake;
ALTER ROLE gmirs_case SET search_path = casework;
ALTER ROLE gmirs_metrics SET search_path = metrics;
ALTER ROLE gmirs_notify SET search_path = notify;

-- Bound runaway statements and idle transactions (a stuck relay must not hold locks for ever).
ALTER ROLE gmirs_intake SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE gmirs_case SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE gmirs_metrics SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE gmirs_notify SET idle_in_transaction_session_timeout = '60s';
