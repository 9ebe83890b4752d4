# test/package_tests.sh -- sourced by test/check.sh: the Debian package and
# the PGXN release, each step one named result (TG_PACKAGE=0 skips them).
#
#   package build         dpkg-buildpackage -b of a copy of the tree, as the
#                         postgres OS user (DEB_BUILD_OPTIONS=nocheck: the
#                         same tests run below against the installed package)
#   package contents      the .deb holds the extension's files, the program,
#                         the docs and nothing else
#   package lintian       no lintian error or warning
#   package install       `apt-get install ./postgresql-15-tenant-guard_*.deb`
#   package installcheck  the autopkgtest debian/tests/installcheck: pg_regress
#                         files and isolation specs against the installed files,
#                         in a pg_virtualenv cluster on port TG_PORT (TCP, localhost)
#   package redis program the autopkgtest debian/tests/redis-cleaner
#   package removal       `apt-get purge`; the files it removed that were there
#                         before (a `make install` into the same installation,
#                         as CI's suite does) come back unchanged
#   pgxn meta             test/pgxn_meta.pl --self-test: META.json against the
#                         PGXN Meta Spec and the tree
#   make dist             the zip holds every committed file and builds
#
# Installing the package replaces, for a while, the files a `make install`
# into Debian's PostgreSQL 15 put there; a lock keeps two suites on one
# machine from doing it at once.  A postgresql-15-tenant-guard installed
# before is left alone: the install steps then fail and say why.

package_enabled() { [ "${TG_PACKAGE:-1}" != 0 ]; }

# The Debian packages these checks need beyond TG_PACKAGES.
package_packages() {
	package_enabled && echo debhelper postgresql-server-dev-all lintian git unzip
	return 0
}

PKG_NAME=postgresql-15-tenant-guard

# package_step NAME COMMAND...: run COMMAND, output kept in $PKG_WORK/NAME.log
# and shown when it fails; record the result as "package NAME".
package_step() {
	local name=$1 log status=0
	shift
	log="$PKG_WORK/${name// /_}.log"
	"$@" >"$log" 2>&1 || status=$?
	[ "$status" -ne 0 ] && tail -n 80 "$log"
	result "$status" "package $name"
	return "$status"
}

# Build the binary package from a copy of the tree, in $PKG_WORK/build
# (dpkg-buildpackage writes the .deb next to the tree).
package_build() {
	local src="$PKG_WORK/build/tenant-guard-$DIST_VERSION"
	copy_tree "$src" || return 1
	"${SUDO[@]}" chown -R postgres: "$PKG_WORK/build" || return 1
	as_postgres env -C "$src" DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b
}

# copy_tree DIR: the project's files (no .git, no work directories) into DIR.
copy_tree() {
	"${SUDO[@]}" rm -rf "$1"
	"${SUDO[@]}" mkdir -p "$1"
	"${SUDO[@]}" rsync -a --exclude .git --exclude .testrun --exclude .demo \
		--exclude .benchrun "$PROJ/" "$1/"
}

# The paths the .deb would install, one a line.
deb_files() {
	dpkg-deb -c "$PKG_DEB" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort
}

# Every file is one we expect, and each expected one is there.
package_contents() {
	local lib=/usr/lib/postgresql/15/lib share=/usr/share/postgresql/15/extension
	local doc=/usr/share/doc/$PKG_NAME f bad=0 expected
	expected=$( {
		echo "$lib/tenant_guard.so"
		echo /usr/lib/postgresql/15/bin/tenant_guard_redis
		echo "$share/tenant_guard.control"
		for f in "$PROJ"/sql/tenant_guard--*.sql; do echo "$share/${f##*/}"; done
		printf '%s\n' "$doc/README.md.gz" "$doc/changelog.Debian.gz" "$doc/copyright"
	} | sort)
	deb_files
	comm -13 <(deb_files) <(echo "$expected") | sed 's/^/missing: /' | grep . && bad=1
	# the rest: JIT bitcode, one file per C source of the module
	while read -r f; do
		case $f in
			"$lib"/bitcode/tenant_guard.index.bc) ;;
			"$lib"/bitcode/tenant_guard/*.bc)
				f=${f#"$lib"/bitcode/tenant_guard/}
				[ -f "$PROJ/${f%.bc}.c" ] || { echo "bitcode without a source: $f"; bad=1; } ;;
			*) echo "unexpected: $f"; bad=1 ;;
		esac
	done < <(comm -23 <(deb_files) <(echo "$expected"))
	dpkg-deb -I "$PKG_DEB" | grep -E '^ (Depends|Installed-Size):'
	return "$bad"
}

package_lintian() {
	# (lintian warns when run as root)
	as_postgres lintian --suppress-tags initial-upload-closes-no-bugs --fail-on error,warning \
		"$PKG_WORK"/build/tenant-guard_*.changes
}

# Keep a copy of each file the package will overwrite (list in $PKG_WORK/saved.list).
package_save_files() {
	local f
	: >"$PKG_WORK/saved.list" || return 1
	while read -r f; do
		[ -e "$f" ] || continue
		"${SUDO[@]}" mkdir -p "$PKG_WORK/saved$(dirname "$f")" || return 1
		"${SUDO[@]}" cp -a "$f" "$PKG_WORK/saved$f" || return 1
		echo "$f" >>"$PKG_WORK/saved.list"
	done < <(deb_files)
	echo "$(wc -l <"$PKG_WORK/saved.list") files of an earlier install kept aside"
}

# (functions called in a condition run without set -e: every step checks)
package_install() {
	if dpkg-query -W -f='${Status}' "$PKG_NAME" 2>/dev/null | grep -q "ok installed"; then
		echo "$PKG_NAME is installed on this machine already: not replacing it (TG_PACKAGE=0 skips)"
		return 1
	fi
	package_save_files || return 1
	PKG_INSTALLED=1
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends -o DPkg::Lock::Timeout=600 "$PKG_DEB" || return 1
	dpkg-query -W -f='${Status} ${Version}\n' "$PKG_NAME" || return 1
	# what dpkg installed is what the .deb holds
	diff <(deb_files) <(dpkg -L "$PKG_NAME" | while read -r f; do
		[ -d "$f" ] || echo "$f"; done | sort)
}

# debian/tests/NAME, the package's autopkgtest, run as autopkgtest does:
# from the top of a source tree, as root.
package_autopkgtest() {
	local src="$PKG_WORK/autopkgtest"
	copy_tree "$src" || return 1
	"${SUDO[@]}" env -C "$src" PGPORT="${TG_PORT:-54329}" "debian/tests/$1"
}

# Purge the package, put back the files kept aside, and check both.
package_remove() {
	local f bad=0
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q \
		-o DPkg::Lock::Timeout=600 "$PKG_NAME" || bad=1
	while read -r f; do
		if grep -qxF "$f" "$PKG_WORK/saved.list"; then
			"${SUDO[@]}" mkdir -p "$(dirname "$f")"
			"${SUDO[@]}" cp -a "$PKG_WORK/saved$f" "$f"
			cmp -s "$PKG_WORK/saved$f" "$f" || { echo "not restored: $f"; bad=1; }
		elif [ -e "$f" ]; then
			echo "left behind by the purge: $f"; bad=1
		fi
	done < <(deb_files)
	if dpkg-query -W -f='${Status}' "$PKG_NAME" 2>/dev/null | grep -q "ok installed"; then
		echo "$PKG_NAME is still installed"; bad=1
	fi
	return "$bad"
}

# make dist in the repository (HEAD), then the zip's contents and a build of it.
package_dist() {
	local dir="$PKG_WORK/dist" zip top
	zip="$dir/tenant_guard-$DIST_VERSION.zip"
	top="$dir/tenant_guard-$DIST_VERSION"
	mkdir -p "$dir" || return 1
	make -s -C "$PROJ" dist DIST_DIR="$dir" || return 1
	ls -l "$zip" || return 1
	# every committed file, under the versioned folder
	diff <(git -C "$PROJ" ls-tree -r --name-only HEAD | sed "s|^|tenant_guard-$DIST_VERSION/|" | sort) \
		<(unzip -Z1 "$zip" | grep -v '/$' | sort) || return 1
	(cd "$dir" && unzip -q "$zip") || return 1
	"${SUDO[@]}" chown -R postgres: "$dir" || return 1
	# (without JIT bitcode: the package build makes that)
	as_postgres make -C "$top" -s with_llvm=no PG_CONFIG="$PG_CONFIG" || return 1
	as_postgres test -f "$top/tenant_guard.so" -a -x "$top/redis/tenant_guard_redis"
}

run_package_tests() {
	if ! package_enabled; then
		echo "SKIP: Debian package and PGXN release (TG_PACKAGE=0)"
		return 0
	fi
	local t0=$SECONDS lock=/run/lock/tenant_guard-package.lock
	PKG_WORK="$WORK/package"
	DIST_VERSION=$(sed -n 's/^DIST_VERSION *= *//p' "$PROJ/Makefile")
	"${SUDO[@]}" mkdir -p "$PKG_WORK"
	"${SUDO[@]}" chown "$(id -u)" "$PKG_WORK"

	say "Debian package $PKG_NAME $DIST_VERSION and the PGXN release"
	package_step "pgxn meta" perl "$PROJ/test/pgxn_meta.pl" --self-test "$PROJ" || true
	package_step "make dist" package_dist || true
	if package_step build package_build; then
		PKG_DEB=$(ls "$PKG_WORK/build/${PKG_NAME}_${DIST_VERSION}"-*_*.deb)
		package_step contents package_contents || true
		package_step lintian package_lintian || true
		# one package test on the machine at a time
		exec {PKG_LOCK}>"$lock"
		flock "$PKG_LOCK"
		PKG_INSTALLED=
		if package_step install package_install; then
			package_step installcheck package_autopkgtest installcheck || true
			package_step "redis program" package_autopkgtest redis-cleaner || true
		fi
		if [ -n "$PKG_INSTALLED" ]; then
			package_step removal package_remove || true
		fi
		exec {PKG_LOCK}>&-
	fi
	echo "(package checks: $((SECONDS - t0)) s)"
}
