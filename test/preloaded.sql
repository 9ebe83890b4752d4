-- Does the server preload tenant_guard?  t or f (the Makefile asks before
-- `make installcheck` to leave out the tests that need it).
SELECT EXISTS (SELECT FROM pg_catalog.unnest(pg_catalog.string_to_array(
                 pg_catalog.current_setting('shared_preload_libraries'), ',')) l
                WHERE pg_catalog.btrim(l, ' "') IN ('tenant_guard', '$libdir/tenant_guard'));
