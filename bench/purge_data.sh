# bench/purge_data.sh -- the cluster and data of bench/purge.sh (sourced by
# it and by bench/archive.sh after test/lib.sh).

# build, install, start a cluster for bulk deletes on TG_PORT (default $1)
# with shared_buffers SHARED_BUFFERS (default $2), CREATE EXTENSION
start_purge_bench() {
	ensure_packages
	make_workdir .benchrun
	build_install
	TG_PORT=${TG_PORT:-$1} start_cluster
	reconfigure_cluster <<CONF
shared_buffers = ${SHARED_BUFFERS:-$2}
max_wal_size = 8GB
checkpoint_timeout = 1h
autovacuum = off
CONF
	psql_pg -q -c 'CREATE EXTENSION tenant_guard'
}

# schema $1: tenants + three cascading levels; $2 = scale
load_purge_data() {
	psql_pg -q -v s="$1" -v scale="$2" <<'SQL'
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS :s CASCADE;
CREATE SCHEMA :s;
SET search_path = :s;
CREATE TABLE tenants (id uuid PRIMARY KEY, name text NOT NULL, subdomain text NOT NULL, email text NOT NULL);
CREATE TABLE projects (id bigint PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE, title text);
CREATE TABLE tasks (id bigint PRIMARY KEY, project_id bigint NOT NULL REFERENCES projects ON DELETE CASCADE, title text);
CREATE TABLE comments (id bigint PRIMARY KEY, task_id bigint NOT NULL REFERENCES tasks ON DELETE CASCADE, body text);
-- tenant n (1..1848) has uuid ...-<n>; 1846..1848 are kept
INSERT INTO tenants
SELECT CASE WHEN g = 1846 THEN '31c06fc4-db22-4740-83ea-48ac14f25810'::uuid
            ELSE ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid END,
       CASE g WHEN 1846 THEN 'Northwind Traders' WHEN 1847 THEN 'System' WHEN 1848 THEN 'Operations'
              ELSE 'Test Company ' || g END,
       CASE g WHEN 1846 THEN 'northwind' WHEN 1847 THEN 'system' WHEN 1848 THEN 'ops'
              ELSE 'test-company-' || g END,
       CASE g WHEN 1846 THEN 'it@northwind.com' WHEN 1847 THEN 'root@ourcompany.io' WHEN 1848 THEN 'ops@ourcompany.io'
              ELSE 'test' || g || '@example.com' END
  FROM generate_series(1, 1848) g;
INSERT INTO projects SELECT p, t.id, 'project ' || p
  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM tenants) t,
       generate_series((t.n - 1) * 5 * :scale + 1, t.n * 5 * :scale) p;
INSERT INTO tasks SELECT g, (g - 1) / 10 + 1, 'task ' || g FROM generate_series(1, 1848 * 50 * :scale) g;
INSERT INTO comments SELECT g, (g - 1) / 10 + 1, 'comment ' || g FROM generate_series(1, 1848 * 500 * :scale) g;
CREATE INDEX ON projects (tenant_id);
CREATE INDEX ON tasks (project_id);
CREATE INDEX ON comments (task_id);
VACUUM ANALYZE tenants, projects, tasks, comments;
SQL
}
