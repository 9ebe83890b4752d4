-- E-mail rules: domains on label boundaries up the parent chain, reserved
-- names, local-part markers, malformed addresses (a decision, not an error).
SELECT e, (tenant_guard.check_tenant(NULL, NULL, e)).*
  FROM unnest(ARRAY[
    'a@yopmail.com', 'a@sharklasers.com', 'a@maildrop.cc', 'a@guerrillamail.com',
    'a@x.mailinator.com', 'a@deep.sub.yopmail.fr', 'a@MAILINATOR.COM.',
    'a@test.com', 'a@fake.com',
    'jane@gmail.com', 'jane@mail.com', 'jane@notyopmail.com', 'jane@mailinator.com.au'
  ]) AS e;

-- reserved names (RFC 2606, RFC 6761, ...)
SELECT e, (tenant_guard.check_tenant(NULL, NULL, e)).*
  FROM unnest(ARRAY[
    'a@example.com', 'a@example.org', 'a@example.net', 'a@mail.example.com',
    'a@acme.test', 'a@foo.example', 'a@x.invalid', 'a@localhost', 'a@app.localhost',
    'a@printer.local', 'a@router.home.arpa',
    'a@examples.com', 'a@example.io', 'a@testing.com'
  ]) AS e;

-- local parts
SELECT e, (tenant_guard.check_tenant(NULL, NULL, e)).*
  FROM unnest(ARRAY[
    'test@acme.com', 'test+1@acme.com', 'demo@acme.com', 'qa.team@acme.com',
    'jane+test@acme.com', 'user123@acme.com', 'asdf@acme.com', 'null@acme.com',
    'jane.smith@gmail.com', 'ana+signup@gmail.com', 'info@acme.com',
    'contest@acme.com', 'protest.group@acme.com', 'sandbox@acme.com',
    'latest.news@acme.com', 'user@acme.com'
  ]) AS e;

-- keywords in the domain's labels (the top-level domain is left out)
SELECT e, (tenant_guard.check_tenant(NULL, NULL, e)).*
  FROM unnest(ARRAY['jane@test-corp.com', 'jane@qa.acme.com', 'jane@demo-company.io',
                    'jane@contest.com', 'jane@sandboxvr.com', 'jane@acme.test.io']) AS e;

-- malformed addresses are reported, never an error
SELECT e, (tenant_guard.check_tenant(NULL, NULL, e)).*
  FROM unnest(ARRAY[
    'no-at-sign', '@acme.com', 'jane@', 'jane@@acme.com', 'ja ne@acme.com',
    'jane@acme', 'jane@acme..com', 'jane@-acme.com', 'jane@acme.c', 'jane@1.2.3.4',
    'jane@[192.0.2.1]', '.jane@acme.com', 'jane..doe@acme.com', 'jane@acme_corp.com',
    'jane@' || repeat('a', 64) || '.com', repeat('j', 65) || '@acme.com',
    '"jane doe"@acme.com', '  jane@acme.com  ', 'jane@acme.com.', E'jane@acme.com\n'
  ]) AS e;

-- internationalised addresses
SELECT e, (tenant_guard.check_tenant(NULL, NULL, e)).*
  FROM unnest(ARRAY['jürgen@müller.de', 'info@株式会社.jp',
                    E'a@\uFF59\uFF4F\uFF50\uFF4D\uFF41\uFF49\uFF4C\uFF0E\uFF43\uFF4F\uFF4D',
                    E'a@yop\u200Bmail.com', E'a@mailinator\u3002com']) AS e;
