// node-redis with RESP3 (`RESP: 3`, HELLO 3 on connect), for test_node_redis_resp3.py: runs
// a few commands whose RESP3 replies differ from RESP2's, and a subscriber that keeps running
// commands while subscribed (RESP3 only), then prints what it got as one JSON line.
//   node resp3.js redis://127.0.0.1:PORT
const { createClient } = require('redis');

// Sets and Maps, as node-redis may return them, in a form JSON keeps.
function plain(key, value) {
  if (value instanceof Set) return { set: [...value] };
  if (value instanceof Map) return { map: Object.fromEntries(value) };
  return value;
}

async function main() {
  const url = process.argv[2];
  const client = createClient({ url, RESP: 3 });
  client.on('error', (error) => console.error('client error:', error.message));
  await client.connect();
  const got = {};
  await client.del(['nr:h', 'nr:s', 'nr:z']);
  await client.hSet('nr:h', { f: 'v', g: 'w' });
  got.hgetall = await client.hGetAll('nr:h');
  await client.sAdd('nr:s', 'm');
  got.smembers = await client.sMembers('nr:s');
  await client.zAdd('nr:z', { score: 1.5, value: 'a' });
  got.zscore = await client.zScore('nr:z', 'a');
  got.get_missing = await client.get('nr:missing');
  got.hello = await client.hello();

  const subscriber = client.duplicate();
  subscriber.on('error', (error) => console.error('subscriber error:', error.message));
  await subscriber.connect();
  const message = new Promise((resolve) => {
    subscriber.subscribe('nr:channel', (text) => resolve(text));
  });
  // PUBLISH until the subscription is in place (its confirmation is not awaited above).
  for (let tries = 0; tries < 50; ++tries) {
    got.receivers = await client.publish('nr:channel', 'hello');
    if (got.receivers > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  got.message = await message;
  got.get_while_subscribed = await subscriber.get('nr:h:missing');
  got.hgetall_while_subscribed = await subscriber.hGetAll('nr:h');
  console.log(JSON.stringify(got, plain));
  await subscriber.quit();
  await client.quit();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
