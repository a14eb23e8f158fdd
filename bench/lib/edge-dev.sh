# Sourced by the bench scripts that measure through the edge: builds what is missing, starts the
# demo shop's own server (the origin) and wrangler dev (local workerd) in front of it, each on a free
# 127.0.0.1 port, with the demo profiles in a fresh local KV, waits until it answers, and stops both
# on exit. Sets: tmp (a scratch folder, removed on exit), port, origin_port, and vid (the demo's
# lapsed big spender).
bash scripts/setup.sh
[ -f demo-shop/dist/vitrine/bundle.json ] && [ -f edge-worker/build/index_bg.wasm ] || bash scripts/build.sh
tmp=$(mktemp -d)
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
port=$(free_port)
origin_port=$(free_port)
node demo-shop/server.mjs --port "$origin_port" 2>"$tmp/origin.log" &
origin_pid=$!
node_modules/.bin/wrangler kv bulk put --binding PROFILES --local --persist-to "$tmp/state" \
  --config edge-worker/wrangler.toml build/kv-profiles.json >/dev/null 2>&1
node_modules/.bin/wrangler dev --local --config edge-worker/wrangler.toml --ip 127.0.0.1 --port "$port" \
  --var "VITRINE_ORIGIN:http://127.0.0.1:$origin_port" \
  --persist-to "$tmp/state" --show-interactive-dev-session=false >"$tmp/wrangler.log" 2>&1 &
wrangler_pid=$!
trap 'kill $wrangler_pid $origin_pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 1 60); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 1; done
vid=$(node -e "const p=require('./demo-shop/dist/personas.json');console.log((p.find(x=>/lapsed/i.test(x.label))||p[0]).vid)")
