/* tenant_guard--1.0--1.1.sql: ALTER EXTENSION tenant_guard UPDATE TO '1.1' */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tenant_guard UPDATE TO '1.1'" to load this file. \quit

-- Every change here is also in tenant_guard--1.1.sql (a fresh install);
-- test/t/010_upgrade.pl proves that an updated 1.0 equals a fresh 1.1.
