-- bench/tenants.sql -- the rows and tables of the insert benchmarks
-- (bench/insert.sh, bench/insert_instructions.sh), so that both time the
-- same insert:
--   psql -v rows=N -v tables='{plain,nolimits}' -f bench/tenants.sql
-- makes src, N real-looking tenants (fewer the few rows tenant_guard would
-- refuse), and for each name in tables an empty t_<name> like a SaaS
-- tenants table: uuid key, unique subdomain, e-mail index, created_at.
-- With -v domains=new every row's e-mail domain is its own, as a
-- company's is (ana.lima17@globexlogistics17.com): real sign-ups rarely
-- repeat one.  Default (domains=recurring): seven shared mail domains.
\if :{?domains}
\else
\set domains recurring
\endif

-- real-looking tenants: no word of them is a test marker
SELECT setseed(0.42);
CREATE TABLE src AS
SELECT n AS i,
       (ARRAY['Acme','Globex','Initech','Umbrella','Hooli','Vandelay','Stark','Wayne','Wonka','Cyberdyne',
              'Soylent','Tyrell','Gringotts','Oscorp','Monarch','Nakatomi','Pied Piper','Dunder Mifflin',
              'Blue Harbor','Northwind','Contoso','Fabrikam','Bluth','Prestige','Sterling'])[1 + (random()*24)::int]
       || ' ' ||
       (ARRAY['Logistics','Partners','Foods','Analytics','Robotics','Media','Health','Energy','Studios',
              'Holdings','Labs','Bakery','Legal','Dental','Travel','Outfitters','Capital','Systems'])[1 + (random()*17)::int]
       AS name,
       NULL::text AS subdomain,
       (ARRAY['info','hello','office','admin','ana.lima','ops','sales'])[1 + (random()*6)::int]
       || n || '@' ||
       (ARRAY['gmail.com','outlook.com','acme.io','globex.com','proton.me','yahoo.co.uk','company.de'])[1 + (random()*6)::int]
       AS email
FROM generate_series(1, :rows) n;
-- subdomain: the name as a slug plus letters that make it unique
UPDATE src SET subdomain = lower(replace(name, ' ', '-')) || '-'
                           || translate(i::text, '0123456789', 'rstvwxyzkm');
UPDATE src SET email = split_part(email, '@', 1) || '@'
                       || lower(regexp_replace(name, '[^A-Za-z]', '', 'g')) || i || '.com'
 WHERE :'domains' = 'new';
-- a random suffix can spell a keyboard row ("asdf"): drop the few rows
-- either guard would refuse, so every timed insert inserts every row
DELETE FROM src WHERE (tenant_guard.check_tenant(name, subdomain, email)).is_suspicious;
ANALYZE src;

SELECT format('CREATE TABLE t_%s (
                 id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                 name text NOT NULL,
                 subdomain text NOT NULL UNIQUE,
                 email text NOT NULL,
                 created_at timestamptz NOT NULL DEFAULT now())', t),
       format('CREATE INDEX ON t_%s (email)', t)
  FROM unnest(:'tables'::text[]) t \gexec
