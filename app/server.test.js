// Unit tests, run by `npm test` in the build stage and by `make test`.
const test = require("node:test");
const assert = require("node:assert");
const { createServer } = require("./server");

async function get(path) {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${server.address().port}${path}`);
    return { status: response.status, body: await response.text() };
  } finally {
    server.close();
  }
}

test("GET /hello answers 200 for health checks", async () => {
  assert.deepStrictEqual(await get("/hello"), { status: 200, body: "hello\n" });
});

test("unknown paths answer 404", async () => {
  assert.strictEqual((await get("/nope")).status, 404);
});
