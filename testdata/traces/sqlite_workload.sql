-- The sqlite3 workload recorded into sqlite3_query.abt: inserts, an index, joins and aggregates on
-- an in-memory database.
CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, city TEXT, score REAL);
CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER, item TEXT, amount REAL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
INSERT INTO users SELECT i, 'user' || i, 'city' || (i % 97), (i * 37 % 1000) / 10.0 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 15000)
INSERT INTO orders SELECT i, (i * 7919) % 6000 + 1, printf('item-%08d-%s', i, hex(randomblob(i % 40))), i % 500 FROM n;
CREATE INDEX orders_user ON orders(user_id);
SELECT city, count(*), avg(score) FROM users GROUP BY city ORDER BY 2 DESC LIMIT 5;
SELECT u.name, sum(o.amount) AS total FROM users u JOIN orders o ON o.user_id = u.id GROUP BY u.id ORDER BY total DESC LIMIT 5;
SELECT item FROM orders WHERE item LIKE '%AB%' ORDER BY length(item) DESC LIMIT 3;
SELECT group_concat(name, ',') IS NOT NULL FROM (SELECT name FROM users ORDER BY name DESC LIMIT 2000);
