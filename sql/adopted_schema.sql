-- An adopted schema: a role with CREATE on the database creates the schema
-- tenant_guard before the superuser's CREATE EXTENSION.  1.1 refuses such a
-- schema (not a superuser's, CREATE granted to others, not empty); the
-- update from 1.0 refuses an install that went into one.  In a database of
-- its own, so the extension of the regression database stays as it is.
SELECT current_database() AS regress_db \gset
\set SHOW_CONTEXT never
CREATE ROLE regress_adopter LOGIN;
CREATE DATABASE regress_adopted;
GRANT CREATE ON DATABASE regress_adopted TO regress_adopter;
\c regress_adopted
\set SHOW_CONTEXT never

-- the schema of a role that is not a superuser: refused, nothing installed
SET ROLE regress_adopter;
CREATE SCHEMA tenant_guard;
RESET ROLE;
CREATE EXTENSION tenant_guard;
SELECT count(*) FROM pg_extension WHERE extname = 'tenant_guard';

-- a superuser's schema in which another role may create objects: refused
ALTER SCHEMA tenant_guard OWNER TO CURRENT_USER;
GRANT CREATE ON SCHEMA tenant_guard TO regress_adopter;
CREATE EXTENSION tenant_guard;
GRANT CREATE ON SCHEMA tenant_guard TO PUBLIC;
CREATE EXTENSION tenant_guard;
REVOKE CREATE ON SCHEMA tenant_guard FROM PUBLIC;

-- objects planted in it (while the role could): refused, and named
SET ROLE regress_adopter;
CREATE FUNCTION tenant_guard.format(text) RETURNS text LANGUAGE sql AS 'SELECT $1';
CREATE TABLE tenant_guard.keywords (keyword text);
ALTER DEFAULT PRIVILEGES IN SCHEMA tenant_guard GRANT ALL ON TABLES TO regress_adopter;
RESET ROLE;
REVOKE CREATE ON SCHEMA tenant_guard FROM regress_adopter;
CREATE EXTENSION tenant_guard;
DROP SCHEMA tenant_guard CASCADE;

-- the good paths: no schema yet, or the empty one DROP EXTENSION leaves
CREATE EXTENSION tenant_guard;
SELECT nspowner::regrole = current_user::regrole AS superuser_owns_it
  FROM pg_namespace WHERE nspname = 'tenant_guard';
DROP EXTENSION tenant_guard;
SELECT count(*) AS schema_left FROM pg_namespace WHERE nspname = 'tenant_guard';
CREATE EXTENSION tenant_guard;
-- and the role that wanted it cannot drop it
SET ROLE regress_adopter;
DROP SCHEMA tenant_guard CASCADE;
RESET ROLE;
DROP EXTENSION tenant_guard;
DROP SCHEMA tenant_guard;

-- 1.0 installed into an adopted schema (1.0 did not look) ...
SET ROLE regress_adopter;
CREATE SCHEMA tenant_guard;
RESET ROLE;
CREATE EXTENSION tenant_guard VERSION '1.0';
CREATE TABLE tenants (id int PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
-- ... is refused by the update, which says what to do
ALTER EXTENSION tenant_guard UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'tenant_guard';
-- the owner could have done this, with the guard gone:
BEGIN;
SET ROLE regress_adopter;
DROP SCHEMA tenant_guard CASCADE;
RESET ROLE;
INSERT INTO tenants VALUES (1, 'Test Company', 'test-company-123', 'test@example.com');
ROLLBACK;
-- CREATE for another role, or a planted object, keep refusing once the
-- schema is a superuser's
ALTER SCHEMA tenant_guard OWNER TO CURRENT_USER;
GRANT CREATE ON SCHEMA tenant_guard TO regress_adopter;
ALTER EXTENSION tenant_guard UPDATE;
REVOKE CREATE ON SCHEMA tenant_guard FROM regress_adopter;
CREATE FUNCTION tenant_guard.lower(text) RETURNS text LANGUAGE sql AS 'SELECT $1';
ALTER EXTENSION tenant_guard UPDATE;
DROP FUNCTION tenant_guard.lower(text);
-- following the hint, the update goes through and the guard holds
ALTER EXTENSION tenant_guard UPDATE;
SELECT extversion = default_version AS updated
  FROM pg_extension JOIN pg_available_extensions ON name = extname WHERE extname = 'tenant_guard';
INSERT INTO tenants VALUES (1, 'Test Company', 'test-company-123', 'test@example.com');
SELECT tenant_guard.log_queue_wait();
SET ROLE regress_adopter;
DROP SCHEMA tenant_guard CASCADE;
RESET ROLE;

\c :regress_db
DROP DATABASE regress_adopted WITH (FORCE);
DROP ROLE regress_adopter;
