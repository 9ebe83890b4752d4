#!/usr/bin/env bash
# test/layers.sh [-v] [SRC]: check that calls go one way between the
# modules of SRC (default: the src/ next to this script), by their
# #include "..." lines.
#
# MODULES below lists every module in order, lowest first, grouped in
# layers: core (no PostgreSQL headers) <- base <- services <- entry
# points <- _PG_init.  A file (.c or .h) may include the headers of its
# own module and of modules listed before it, never one listed after it;
# a core file may include no header but the core's (the build enforces
# that too: src/core/ is compiled without the server's include path).
# Every .c and .h under SRC must belong to a module, so a new file has to
# be placed here.  -v prints each file's layer, module and project
# includes.  Exits 1 on a violation.

set -euo pipefail

verbose=0
if [ "${1:-}" = -v ]; then
	verbose=1
	shift
fi
src=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../src" && pwd)}

# layer:module: files (paths relative to SRC, shell patterns)
MODULES=(
	"core:checker: core/checker.h core/checker_int.h core/checker_simd.h core/checker*.c"
	"core:ratekey: core/ratekey.h core/ratekey*.c"
	"base:names: names.h"
	"base:tg_assert: tg_assert.h"
	"base:guc: guc.h guc.c"
	"base:statefile: statefile.h statefile.c"
	"base:lookup: lookup.h lookup.c"
	"base:safesql: safesql.h safesql.c"
	"base:own_tables: own_tables.h own_tables.c"
	"base:row: row.h row.c"
	"base:guarded: guarded.h guarded.c"
	"services:rules: rules.h rules.c rules_shmem.h rules_shmem.c"
	"services:log_queue: log_queue.h log_queue.c log_queue_file.c"
	"services:log: log.h log.c"
	"services:ratelimit: ratelimit.h ratelimit_int.h ratelimit.c ratelimit_admin.c"
	"services:log_worker: log_worker.h log_worker.c"
	"services:creations: creations.h creations.c"
	"entry:check: check.c"
	"entry:trigger: trigger.c"
	"entry:registry: registry.c"
	"entry:protect: protect.c"
	"entry:purge: purge.h purge_int.h purge.c purge_delete.c purge_keyset.c fkgraph.c archive.h archive.c export.h export.c export_doc.h export_doc.c archive_at.h archive_at.c import.c"
	"entry:alerts: alerts.h alerts.c"
	"init:tenant_guard: tenant_guard.c"
)

declare -A rank_of layer_of module_of header_path
cd "$src"
shopt -s nullglob
rank=0
for entry in "${MODULES[@]}"; do
	layer=${entry%%:*}
	rest=${entry#*:}
	module=${rest%%:*}
	for pattern in ${rest#*:}; do
		for f in $pattern; do
			[ -n "${module_of[$f]:-}" ] && continue
			module_of[$f]=$module
			layer_of[$f]=$layer
			rank_of[$f]=$rank
			case $f in *.h) header_path[$(basename "$f")]=$f ;; esac
		done
	done
	rank=$((rank + 1))
done

bad=0
violation() {
	echo "layering violation: $*"
	bad=1
}

for f in $(find . -name '*.[ch]' | sed 's|^\./||' | sort); do
	if [ -z "${module_of[$f]:-}" ]; then
		violation "$f belongs to no module (add it to MODULES in test/layers.sh)"
		continue
	fi
	uses=()
	while read -r inc; do
		target=${header_path[$(basename "$inc")]:-}
		# a header of another program or library (PostgreSQL's)
		if [ -z "$target" ] || [ "$inc" != "$(basename "$inc")" ]; then
			[ "${layer_of[$f]}" = core ] &&
				violation "$f (core) includes \"$inc\", not a header of the core"
			continue
		fi
		uses+=("${module_of[$target]}")
		if [ "${module_of[$target]}" != "${module_of[$f]}" ] &&
			[ "${rank_of[$target]}" -ge "${rank_of[$f]}" ]; then
			violation "$f (${layer_of[$f]}: ${module_of[$f]}) includes \"$inc\"" \
				"(${layer_of[$target]}: ${module_of[$target]}), which is not below it"
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	if [ "$verbose" -eq 1 ]; then
		printf '%-9s %-13s %-22s %s\n' "${layer_of[$f]}" "${module_of[$f]}" "$f" \
			"$(printf '%s\n' "${uses[@]}" | grep -vx "${module_of[$f]}" | sort -u | tr '\n' ' ')"
	fi
done

if [ "$bad" -ne 0 ]; then
	exit 1
fi
echo "layers ok: $(echo "${!module_of[@]}" | wc -w) files in ${#MODULES[@]} modules"
