#!/usr/bin/perl
# test/pgxn_meta.pl -- validate META.json against the PGXN Meta Spec 1.0.0
# (https://pgxn.org/spec/) and against the tree it describes.
#
#   perl test/pgxn_meta.pl DIR        checks DIR/META.json; exit 0 when valid,
#                                     else 1 with one line per problem
#   perl test/pgxn_meta.pl --self-test DIR
#                                     also shows that the checks catch broken
#                                     copies (a missing key, a bad version, ...)
#
# The tree checks: the file each extension names exists, its version starts
# with the control file's default_version, and the release version is the
# one the Makefile's `make dist` and debian/changelog use.
use strict;
use warnings;
use JSON::PP;

my $SEMVER = qr/^(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)(?:-[A-Za-z][0-9A-Za-z-]*)?$/;
my %LICENSES = map { $_ => 1 } qw(agpl_3 apache_1_1 apache_2_0 artistic_1 artistic_2 bsd
	freebsd gfdl_1_2 gfdl_1_3 gpl_1 gpl_2 gpl_3 lgpl_2_1 lgpl_3_0 mit mozilla_1_0 mozilla_1_1
	openssl perl_5 postgresql qpl_1_0 ssleay sun zlib open_source restricted unrestricted
	unknown);
my %TOP = map { $_ => 1 } qw(name abstract description version maintainer license provides
	prereqs release_status resources tags no_index generated_by meta-spec);
my @REQUIRED = qw(name abstract version maintainer license provides meta-spec);
my %PHASES = map { $_ => 1 } qw(configure build test runtime develop);
my %RELATIONS = map { $_ => 1 } qw(requires recommends suggests conflicts);

# Problems found in the decoded document $m (a list of strings).
sub spec_problems {
	my ($m) = @_;
	my @p;
	my $str = sub { defined $_[0] && !ref $_[0] && $_[0] ne '' };
	my $strings = sub { ref $_[0] eq 'ARRAY' && @{ $_[0] } && !grep { !$str->($_) } @{ $_[0] } };

	return ('the document is not a JSON object') unless ref $m eq 'HASH';
	exists $m->{$_} or push @p, "required key \"$_\" is missing" for @REQUIRED;
	for my $k (sort keys %$m) {
		push @p, "unknown key \"$k\" (custom keys start with x_ or X_)"
			unless $TOP{$k} || $k =~ /^[xX]_/;
	}
	if (exists $m->{name}) {
		push @p, 'name must be a string of at least two characters without whitespace, '
			. 'control characters, "/", "\\" or ":"'
			unless $str->($m->{name}) && length $m->{name} >= 2
			&& $m->{name} !~ m{[\s[:cntrl:]/\\:]};
	}
	for my $k (qw(abstract description generated_by)) {
		push @p, "$k must be a non-empty string" if exists $m->{$k} && !$str->($m->{$k});
	}
	push @p, "version \"" . ($m->{version} // '') . "\" is not a semantic version"
		if exists $m->{version} && !($str->($m->{version}) && $m->{version} =~ $SEMVER);
	push @p, 'maintainer must be a string or a list of strings'
		if exists $m->{maintainer} && !($str->($m->{maintainer}) || $strings->($m->{maintainer}));
	if (exists $m->{license}) {
		my $l = $m->{license};
		my @names = ref $l eq 'ARRAY' ? @$l : ref $l eq 'HASH' ? () : ($l);
		if (ref $l eq 'HASH') {
			push @p, 'license object must map names to URLs'
				unless %$l && !grep { !$str->($l->{$_}) || $l->{$_} !~ m{^https?://} } keys %$l;
		} else {
			push @p, "license \"" . ($_ // '') . "\" is not one of the spec's names"
				for grep { !defined $_ || ref $_ || !$LICENSES{$_} } @names;
			push @p, 'license list is empty' if ref $l eq 'ARRAY' && !@$l;
		}
	}
	if (exists $m->{provides}) {
		my $pr = $m->{provides};
		if (ref $pr ne 'HASH' || !%$pr) {
			push @p, 'provides must be an object naming at least one extension';
		} else {
			for my $ext (sort keys %$pr) {
				my $e = $pr->{$ext};
				if (ref $e ne 'HASH') { push @p, "provides.$ext must be an object"; next; }
				push @p, "provides.$ext.file is missing" unless $str->($e->{file});
				push @p, "provides.$ext.version is not a semantic version"
					unless $str->($e->{version}) && $e->{version} =~ $SEMVER;
				for my $k (sort keys %$e) {
					push @p, "provides.$ext has unknown key \"$k\""
						unless $k =~ /^(file|version|abstract|docfile)$/ || $k =~ /^[xX]_/;
				}
			}
		}
	}
	if (exists $m->{prereqs}) {
		my $pq = $m->{prereqs};
		if (ref $pq ne 'HASH') { push @p, 'prereqs must be an object'; }
		else {
			for my $phase (sort keys %$pq) {
				push @p, "prereqs phase \"$phase\" is unknown" unless $PHASES{$phase};
				my $rels = $pq->{$phase};
				if (ref $rels ne 'HASH') { push @p, "prereqs.$phase must be an object"; next; }
				for my $rel (sort keys %$rels) {
					push @p, "prereqs.$phase relation \"$rel\" is unknown" unless $RELATIONS{$rel};
					my $deps = $rels->{$rel};
					if (ref $deps ne 'HASH') { push @p, "prereqs.$phase.$rel must be an object"; next; }
					for my $d (sort keys %$deps) {
						push @p, "prereqs.$phase.$rel.$d is not a version range"
							unless valid_range($deps->{$d});
					}
				}
			}
		}
	}
	push @p, 'release_status must be stable, testing or unstable'
		if exists $m->{release_status}
		&& !(defined $m->{release_status} && $m->{release_status} =~ /^(stable|testing|unstable)$/);
	push @p, 'tags must be a list of strings' if exists $m->{tags} && !$strings->($m->{tags});
	if (exists $m->{no_index}) {
		my $n = $m->{no_index};
		if (ref $n ne 'HASH') { push @p, 'no_index must be an object'; }
		else {
			for my $k (sort keys %$n) {
				push @p, "no_index has unknown key \"$k\"" unless $k =~ /^(file|directory)$/;
				push @p, "no_index.$k must be a string or a list of strings"
					unless $str->($n->{$k}) || $strings->($n->{$k});
			}
		}
	}
	if (exists $m->{resources}) {
		my $r = $m->{resources};
		if (ref $r ne 'HASH') { push @p, 'resources must be an object'; }
		else {
			for my $k (sort keys %$r) {
				push @p, "resources has unknown key \"$k\""
					unless $k =~ /^(homepage|bugtracker|repository)$/ || $k =~ /^[xX]_/;
			}
		}
	}
	my $ms = $m->{'meta-spec'};
	push @p, 'meta-spec.version must be "1.0.0"'
		if exists $m->{'meta-spec'} && !(ref $ms eq 'HASH' && ($ms->{version} // '') eq '1.0.0');
	return @p;
}

# A version range: 0 (any), a version, or ", "-separated "OP version" items.
sub valid_range {
	my ($r) = @_;
	return 0 unless defined $r && !ref $r;
	return 1 if $r eq '0' || $r =~ $SEMVER;
	for my $item (split /\s*,\s*/, $r) {
		my ($op, $v) = $item =~ /^(==|!=|>=|<=|>|<)\s*(\S+)$/ or return 0;
		return 0 unless $v =~ $SEMVER;
	}
	return 1;
}

sub slurp {
	my ($f) = @_;
	open my $fh, '<', $f or return undef;
	local $/;
	return scalar <$fh>;
}

# Problems between META.json and the tree in $dir.
sub tree_problems {
	my ($m, $dir) = @_;
	my @p;
	my $control = slurp("$dir/tenant_guard.control") // '';
	my ($default) = $control =~ /^\s*default_version\s*=\s*'([^']+)'/m;
	for my $ext (sort keys %{ $m->{provides} || {} }) {
		my $e = $m->{provides}{$ext};
		next unless ref $e eq 'HASH';
		push @p, "provides.$ext.file \"$e->{file}\" is not in the tree"
			if defined $e->{file} && !-f "$dir/$e->{file}";
		push @p, "provides.$ext.docfile \"$e->{docfile}\" is not in the tree"
			if defined $e->{docfile} && !-f "$dir/$e->{docfile}";
		push @p, "provides.$ext.version \"" . ($e->{version} // '')
			. "\" does not continue the control file's default_version " . ($default // '(none)')
			if $ext eq 'tenant_guard'
			&& !(defined $default && ($e->{version} // '') =~ /^\Q$default\E\.[0-9]+$/);
	}
	my $version = $m->{version} // '';
	my ($dist) = (slurp("$dir/Makefile") // '') =~ /^DIST_VERSION\s*[:?]?=\s*(\S+)/m;
	push @p, "version $version is not the Makefile's DIST_VERSION " . ($dist // '(none)')
		unless defined $dist && $dist eq $version;
	my ($deb) = (slurp("$dir/debian/changelog") // '') =~ /^\S+ \(([^)-]+)-[^)]*\)/;
	push @p, "version $version is not debian/changelog's upstream version " . ($deb // '(none)')
		unless defined $deb && $deb eq $version;
	return @p;
}

# Broken copies of a valid document: each must be rejected.
sub self_test {
	my ($m) = @_;
	my $json = JSON::PP->new->canonical;
	my @cases = (
		['no name',             sub { delete $_[0]{name} }],
		['no provides',         sub { delete $_[0]{provides} }],
		['two-part version',    sub { $_[0]{version} = '1.1' }],
		['unknown key',         sub { $_[0]{homepage} = 'x' }],
		['name with a slash',   sub { $_[0]{name} = 'tenant/guard' }],
		['bad license',         sub { $_[0]{license} = 'GPL' }],
		['provides no file',    sub { delete $_[0]{provides}{tenant_guard}{file} }],
		['provides bad version', sub { $_[0]{provides}{tenant_guard}{version} = 'v1' }],
		['bad range',           sub { $_[0]{prereqs}{runtime}{requires}{PostgreSQL} = '~> 15' }],
		['unknown phase',       sub { $_[0]{prereqs}{install} = {} }],
		['meta-spec 2',         sub { $_[0]{'meta-spec'}{version} = '2.0.0' }],
		['bad release_status',  sub { $_[0]{release_status} = 'final' }],
	);
	my $fails = 0;
	for my $c (@cases) {
		my $copy = $json->decode($json->encode($m));
		$c->[1]->($copy);
		my @p = spec_problems($copy);
		if (@p) { print "self-test: $c->[0]: rejected ($p[0])\n"; }
		else { print "self-test: $c->[0]: ACCEPTED\n"; $fails++; }
	}
	return $fails;
}

my $self = @ARGV && $ARGV[0] eq '--self-test' ? shift @ARGV : undef;
my $dir = shift @ARGV // '.';
my $text = slurp("$dir/META.json");
defined $text or die "cannot read $dir/META.json: $!\n";
my $m = eval { JSON::PP->new->relaxed(0)->decode($text) };
if (!defined $m) {
	print "META.json: not valid JSON: $@";
	exit 1;
}
my @problems = (spec_problems($m), tree_problems($m, $dir));
print "META.json: $_\n" for @problems;
my $fails = $self ? self_test($m) : 0;
print "META.json: valid (PGXN Meta Spec 1.0.0, $m->{name} $m->{version})\n" unless @problems;
exit(@problems || $fails ? 1 : 0);
