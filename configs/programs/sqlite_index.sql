-- sqlite_index: an in-memory database with indexes: rows made by a deterministic generator (a
-- linear congruential sequence in a recursive CTE), two indexes, joins, grouping and an update.
-- SQLite takes its page cache and every statement's memory from malloc.
CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, region INTEGER);
CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER, amount INTEGER, note TEXT);

WITH RECURSIVE seq(i, x) AS (
  SELECT 1, 12345
  UNION ALL
  SELECT i + 1, (x * 1103515245 + 12345) % 2147483648 FROM seq WHERE i < 20000
)
INSERT INTO users SELECT i, 'user' || (x % 100000), x % 50 FROM seq;

WITH RECURSIVE seq(i, x) AS (
  SELECT 1, 777
  UNION ALL
  SELECT i + 1, (x * 1103515245 + 12345) % 2147483648 FROM seq WHERE i < 120000
)
INSERT INTO orders SELECT i, 1 + x % 20000, x % 1000, substr(hex(x), 1, 1 + x % 12) FROM seq;

CREATE INDEX orders_user ON orders(user_id);
CREATE INDEX users_region_name ON users(region, name);

SELECT u.region, count(*), sum(o.amount), max(o.note)
  FROM users u JOIN orders o ON o.user_id = u.id
  GROUP BY u.region ORDER BY u.region;

UPDATE orders SET amount = amount + 1 WHERE user_id IN (SELECT id FROM users WHERE region < 10);

SELECT name, total FROM (
  SELECT u.name AS name, sum(o.amount) AS total FROM users u JOIN orders o ON o.user_id = u.id
  GROUP BY u.id
) ORDER BY total DESC, name LIMIT 20;

SELECT count(DISTINCT note), count(*) FROM orders WHERE note LIKE 'A%' OR amount > 900;
