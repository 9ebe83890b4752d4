-- Normalisation before matching: NFKC, case folding, invisible characters,
-- look-alike letters (ICU's spoof checker), combining marks.
SELECT n, (tenant_guard.check_tenant(n, NULL, NULL)).*
  FROM unnest(ARRAY[
    E'\uFF34\uFF45\uFF53\uFF54 Company',   -- fullwidth
    E'T\u0435st',                           -- Cyrillic small ie
    E'\u0422\u0415\u0421\u0422',            -- Cyrillic capitals: ТЕСТ
    E'\u03A4est',                           -- Greek capital tau
    E'Te\u200Bst',                          -- zero-width space
    E'Te\u00ADst',                          -- soft hyphen
    E'T\u200De\u200Cs\u2060t',              -- joiners, word joiner
    E'Te\u0301st',                          -- combining acute
    E'T\u0336e\u0336s\u0336t\u0336',        -- strike-through overlay
    E'\u202Etset\u202C Co',                 -- right-to-left override
    E'\uFF83\uFF7D\uFF84',                  -- halfwidth katakana テスト
    E'\u30C6\u30B9\u30C8\u682A\u5F0F\u4F1A\u793E',  -- テスト株式会社
    E'\u30B5\u30F3\u30D7\u30EB\u682A\u5F0F\u4F1A\u793E'  -- サンプル株式会社
  ]) AS n;

-- real names in other scripts and with accents pass
SELECT n, (tenant_guard.check_tenant(n, NULL, NULL)).*
  FROM unnest(ARRAY['Müller GmbH', '株式会社トヨタ', 'Ørsted', 'Café Olé',
                    'Straße & Söhne', 'İstanbul Kebap', 'Сергей Иванов',
                    'Ελληνικά Τρόφιμα', 'ﬁnance partners', 'Łódź Logistics',
                    'København Bryghus', 'שלום', 'مرحبا']) AS n;

-- normal_form() shows how the checker reads a value
SELECT v, tenant_guard.normal_form(v)
  FROM unnest(ARRAY[E'\uFF34\uFF45\uFF53\uFF54  Co.', E'T\u0435st', 'TestCompany42',
                    'Müller', E'Te\u200Bst', '---', '']) AS v;
SELECT v, tenant_guard.normal_form(v, 'domain')
  FROM unnest(ARRAY['Mailinator.COM.', '@yopmail.com', '*.example.org',
                    E'\uFF59\uFF4F\uFF50mail.com', 'not a domain', '']) AS v;
SELECT tenant_guard.normal_form('x', 'colour');
