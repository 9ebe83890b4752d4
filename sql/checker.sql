-- The checker: keywords as whole words in name and subdomain, test domains
-- in email; good and bad inputs side by side.
SELECT * FROM tenant_guard.check_tenant('Test Company', 'test-company-123', 'test@example.com');
SELECT * FROM tenant_guard.check_tenant('Acme Corporation', 'acme-corp', 'contact@acme.com');

-- each keyword, in name and in subdomain
SELECT k, (tenant_guard.check_tenant(k || ' Holdings', NULL, NULL)).*
  FROM unnest(ARRAY['test', 'Demo', 'SAMPLE', 'fake', 'dummy', 'example']) AS k;
SELECT s, (tenant_guard.check_tenant(NULL, s, NULL)).*
  FROM unnest(ARRAY['demo-1', 'my_sample', 'fake.co', 'dummy', 'acme']) AS s;

-- whole words only: real businesses containing a keyword as a substring pass
SELECT n, (tenant_guard.check_tenant(n, NULL, NULL)).*
  FROM unnest(ARRAY['Contest Media', 'Protestant Aid', 'Attestation Services',
                    'Latest Trends', 'Demolition Pros', 'Fakenham Foods',
                    'Sampson Construction', 'Exampleton Ltd', 'Müller GmbH',
                    '株式会社トヨタ']) AS n;

-- email domains: exact, case-insensitive, trailing dot ignored
SELECT e, (tenant_guard.check_tenant(NULL, NULL, e)).*
  FROM unnest(ARRAY['a@test.com', 'b@EXAMPLE.COM', 'c@fake.com.', 'd@temp.com',
                    'e@throwaway.email', 'f@guerrillamail.com', 'g@mailinator.com',
                    'h@10minutemail.com', 'ok@gmail.com', 'ok@contest.com',
                    'no-at-sign', 'two@at@test.com', '@', '']) AS e;

-- every rule that fired is named
SELECT reason FROM tenant_guard.check_tenant('Demo Test', 'sample', 'x@fake.com');

-- NULL arguments are no evidence
SELECT * FROM tenant_guard.check_tenant(NULL, NULL, NULL);
SELECT * FROM tenant_guard.check_tenant('', '', '');
