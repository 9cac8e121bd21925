// The Product Service, reduced to what the infrastructure needs to prove itself: a web
// server on port 3000 with the health endpoint the load balancer and smoke test call.
const http = require("node:http");

function handle(request, response) {
  if (request.method === "GET" && request.url === "/hello") {
    response.writeHead(200, { "content-type": "text/plain" });
    response.end("hello\n");
    return;
  }
  response.writeHead(404, { "content-type": "text/plain" });
  response.end("not found\n");
}

function createServer() {
  return http.createServer(handle);
}

if (require.main === module) {
  const port = Number(process.env.PORT || 3000);
  createServer().listen(port, () => console.log(`Product Service listening on ${port}`));
}

module.exports = { createServer };
