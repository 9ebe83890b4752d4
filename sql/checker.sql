-- The checker: strong and weak keywords, made-up names, e-mail rules;
-- good and bad inputs side by side.
SELECT * FROM tenant_guard.check_tenant('Test Company', 'test-company-123', 'test@example.com');
SELECT * FROM tenant_guard.check_tenant('Acme Corporation', 'acme-corp', 'contact@acme.com');

-- strong keywords fire alone, in name and in subdomain
SELECT k, (tenant_guard.check_tenant(k || ' Holdings', NULL, NULL)).*
  FROM unnest(ARRAY['test', 'QA', 'e2e', 'Dummy', 'FAKE', 'asdf', 'qwerty']) AS k;
SELECT s, (tenant_guard.check_tenant(NULL, s, NULL)).*
  FROM unnest(ARRAY['test', 'qa-42', 'fake.co', 'dummy', 'acme']) AS s;

-- weak keywords need a second signal: a generic word, a number, a
-- timestamp, a hex string, another weak keyword, or nothing else at all
SELECT n, (tenant_guard.check_tenant(n, NULL, NULL)).*
  FROM unnest(ARRAY['Demo Org', 'Sample 7', 'staging-1699999999', 'sandbox-3f9a2b',
                    'Demo Sample', 'Demo', 'Temp Co',
                    'Sandbox VR', 'Demo Day Events', 'Temp Agency', 'Sample Music',
                    'Staging Lights']) AS n;

-- made-up names: generic words and numbers, placeholders, no letters
SELECT n, (tenant_guard.check_tenant(n, NULL, NULL)).*
  FROM unnest(ARRAY['Company 123', 'Tenant 1845', 'New Org', 'My Company', 'Untitled',
                    'N/A', '12345', 'Acme 123', 'Route 66 Diner', 'Studio 54',
                    '7-Eleven', '37signals', '99designs', 'Acme Inc']) AS n;

-- keyboard rows, repeated letters, phrases
SELECT n, (tenant_guard.check_tenant(n, NULL, NULL)).*
  FROM unnest(ARRAY['asdf', 'Qwerty Ltd', 'sdfsdf', 'aaaa', 'xxxx Corp', 'Foo Bar',
                    'Lorem Ipsum LLC', 'Do Not Use', 'do-not-use', 'Delete Me',
                    'AAA Plumbing', 'Werther Foods', 'Zyx Labs']) AS n;

-- tokens, not substrings: compounds of keyword + generic word fire,
-- words that merely contain a keyword do not (the Scunthorpe problem)
SELECT n, (tenant_guard.check_tenant(n, NULL, NULL)).*
  FROM unnest(ARRAY['TestCompany', 'Testco', 'DemoCorp', 'democorp', 'QAOrg',
                    'loadtest', 'test123', 'e2e-tenant-1699999999',
                    'Contest Media', 'Protestant Aid', 'Attestation Services',
                    'Latest Trends', 'Demolition Pros', 'Fakenham Foods',
                    'Sampson Construction', 'Tempest Studios', 'Pentester Security',
                    'Testament Books', 'Examplar Design', 'Quartz Analytics']) AS n;

-- leetspeak and letters written apart
SELECT n, (tenant_guard.check_tenant(n, NULL, NULL)).*
  FROM unnest(ARRAY['t3st company', 'T3ST', 'd3m0 inc', 'f4ke', 'T.E.S.T Corp',
                    'Q A Group', 'l33t Coffee', '4 Seasons Hotel', 'B2B Growth']) AS n;

-- CI pipelines and test tools: weak keywords with a second signal (a
-- number, a Unix time, a tenant word, a signal word such as run or
-- build); ordinary words among them (cypress, jenkins, smoke) not with a
-- number alone, nor alone
SELECT n, (tenant_guard.check_tenant(n, NULL, NULL)).*
  FROM unnest(ARRAY['Cypress Run 42', 'Playwright Org 7', 'jenkins-build-991', 'ci-1234',
                    'github-actions-tenant', 'k6 load 3', 'pytest tenant', 'Smoke Tenant 12',
                    'Synthetic Monitor EU', 'Automation Tenant 55',
                    'Cypress Semiconductor', 'Jenkins Plumbing 24', 'Smoke House BBQ',
                    'Playwright Theatre Company', 'CI Financial', 'Cypress']) AS n;

-- Unix times (2015-2029) and keyboard mashing beyond rows
SELECT n, s, e, (tenant_guard.check_tenant(n, s, e)).*
  FROM (VALUES ('acme-1718000000', NULL, NULL),
               (NULL, 'acme-1718000000', 'acme+1718000000@gmail.com'),
               ('sdkjfhsdkjf', NULL, NULL), (NULL, 'jkhsdfkjh', NULL),
               ('Studio 2049', NULL, '2125551234@vtext.com'),
               ('Stress Crafts', 'flasks-drafts', NULL),
               ('Strengths Coaching', 'rhythms', NULL)) AS t(n, s, e);

-- placeholder people, inflected Cyrillic, keywords inside CJK runs,
-- test and example words of other languages; and real names beside them
SELECT n, (tenant_guard.check_tenant(n, NULL, NULL)).*
  FROM unnest(ARRAY['Mickey Mouse Inc', 'Max Mustermann GmbH', 'Тестовая компания',
                    '测试公司', 'テストカンパニー', '테스트회사', 'Prova Azienda', 'Teste Ltda',
                    'Société Essai', 'Prüfung Mandant 3', 'Testowa Firma',
                    'Тесто и Мука', 'コンテスト株式会社', '日本試験機工業',
                    'Bäckerei Müller GmbH', 'Essais Cliniques Paris', 'Proef Lokaal']) AS n;

-- legal forms are no signal; a strong keyword in a business phrase
-- ("test kitchen") or beside two distinctive words counts as weak
SELECT n, s, e, (tenant_guard.check_tenant(n, s, e)).*
  FROM (VALUES ('Sandbox VR Inc', NULL, NULL), ('Trial Lawyers Group LLC', NULL, NULL),
               ('Sample & Hold Audio Ltd', NULL, NULL), ('Staging Design Studio Inc', NULL, NULL),
               ('Temp Staffing Solutions Inc', NULL, NULL), ('DevOps Dynamics Ltd', NULL, NULL),
               ('Intertek Testing Services Inc', NULL, NULL), ('Test Valley Farms', NULL, NULL),
               ('America''s Test Kitchen', NULL, NULL),
               (NULL, NULL, 'sales@test-equipment-corp.com'),
               ('Dev Patel Photography', NULL, 'dev@devpatelphotography.com'),
               ('Test Company', 'test-company-123', 'test@example.com'),
               ('Acme Test', NULL, NULL), ('Jane Smith Test', NULL, NULL),
               ('Test Kitchen Tenant 3', NULL, NULL), ('Demo Inc', NULL, NULL),
               ('Dev Patel', NULL, 'dev@gmail.com')) AS t(n, s, e);

-- every rule that fired is named, once
SELECT reason FROM tenant_guard.check_tenant('Demo Test', 'sample', 'x@fake.com');
SELECT reason FROM tenant_guard.check_tenant('test test test', 'test-test', NULL);

-- NULL and empty arguments are no evidence
SELECT * FROM tenant_guard.check_tenant(NULL, NULL, NULL);
SELECT * FROM tenant_guard.check_tenant('', '', '');
