-- search_path pinning: every function and procedure of the extension, with
-- its language, whether it is SECURITY DEFINER, and whether its definition
-- pins search_path = pg_catalog, pg_temp.  The few that do not pin it there
-- are listed below with the reason; a new function that neither pins it nor
-- is listed shows up in the second query (and as a diff in the first).
SET search_path = pg_catalog;
CREATE TEMP TABLE unpinned_by_design (fn text PRIMARY KEY, reason text NOT NULL);
INSERT INTO unpinned_by_design VALUES
  ('check_tenant(text,text,text)',      'per row (trigger, purge); runs no SQL'),
  ('guard_trigger()',                   'per row; its log write (log mode) searches only pg_catalog (in C)'),
  ('guard_created_trigger()',          'per inserted row of INSERT ... ON CONFLICT; its log write (log mode) searches only pg_catalog (in C)'),
  ('creation_deferred()',              'WHEN clause of tenant_guard_created, per row; runs no SQL'),
  ('write_guard()',                    'statement trigger on the extension''s tables; reads privileges from the catalog caches, runs no SQL'),
  ('protect_trigger()',                 'per deleted row; searches only pg_catalog around its lookup (in C)'),
  ('normalize_email(text)',             'immutable, per row; runs no SQL'),
  ('normal_form(text,text)',            'immutable, per row; runs no SQL'),
  ('purge_tally(integer,anyelement)',   'per row in the purge, which pins it; runs no SQL'),
  ('purge_match(anyelement)',           'per row in the purge, which pins it; runs no SQL'),
  ('purge_match_keep("any","any")',     'per row in the purge, which pins it; runs no SQL'),
  ('purge_match_at("any","any",oid,tid)', 'per row in the purge, which pins it; runs no SQL'),
  ('purge_ord(anyelement)',             'per row in the purge, which pins it; runs no SQL'),
  ('purge_test_tenants_in_batches(integer,boolean,regclass)',
                                        'procedure that COMMITs (SET would forbid it); names every operator by schema');

CREATE TEMP VIEW ext_functions AS
SELECT pg_catalog.replace(p.oid::pg_catalog.regprocedure::pg_catalog.text, 'tenant_guard.', '') AS fn,
       p.prokind AS kind, l.lanname AS language, p.prosecdef AS security_definer,
       COALESCE('search_path=pg_catalog, pg_temp' OPERATOR(pg_catalog.=) ANY (p.proconfig), false) AS pinned
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_depend d
    ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
   AND d.objid OPERATOR(pg_catalog.=) p.oid
   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
   AND d.deptype OPERATOR(pg_catalog.=) 'e'
  JOIN pg_catalog.pg_extension e
    ON e.oid OPERATOR(pg_catalog.=) d.refobjid AND e.extname OPERATOR(pg_catalog.=) 'tenant_guard'
  JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) p.prolang;

SELECT f.fn, f.kind, f.language, f.security_definer, f.pinned,
       CASE WHEN f.pinned THEN 'SET search_path' ELSE u.reason END AS how
  FROM ext_functions f LEFT JOIN unpinned_by_design u USING (fn)
 ORDER BY f.fn COLLATE "C";

-- must be empty: unpinned and not explained, or explained but pinned after all
SELECT f.fn, f.pinned, u.reason
  FROM ext_functions f FULL JOIN unpinned_by_design u USING (fn)
 WHERE f.pinned IS DISTINCT FROM (u.fn IS NULL);
-- must be empty: SECURITY DEFINER always pins
SELECT fn FROM ext_functions WHERE security_definer AND NOT pinned;
-- the procedure pins nothing: its body names every operator by schema
SELECT p.prosrc OPERATOR(pg_catalog.~) '[^.(]\m(count|sum)\(|[a-z_0-9)] *(=|<>|<|>|<=|>=|\+|-) *[a-z_0-9(]' AS has_unqualified
  FROM pg_catalog.pg_proc p
 WHERE p.oid OPERATOR(pg_catalog.=) 'tenant_guard.purge_test_tenants_in_batches(integer,boolean,regclass)'::pg_catalog.regprocedure;
