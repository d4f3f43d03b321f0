import pg from 'pg';
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/outreach_bench' });
await c.connect();
const sql = process.argv[2];
const times = [];
for (let rep = 0; rep < 8; rep++) {
  await c.query('BEGIN');
  const { rows } = await c.query(`UPDATE messages SET status = 'sent' WHERE id IN (SELECT id FROM messages WHERE provider_message_id IS NOT NULL ORDER BY random() LIMIT 48) RETURNING provider_message_id`);
  const ids = rows.map(r => r.provider_message_id);
  const t0 = process.hrtime.bigint();
  await c.query(sql, [ids.map(()=>'twilio'), ids, ids.map(()=>'delivered'), ids.map(()=>''), ids.map(()=>null)]);
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  await c.query('ROLLBACK');
}
console.log(times.map(t => t.toFixed(1)).join(' '));
await c.end();
