// Signs the `vitrine_vid` cookie in a Node backend, as `vitrine cookie --id ID` does (README,
// "Deploying in front of your shop"). Set it when a customer logs in; clear it when they log out.
//
//   import { vitrineCookie, setVitrineCookie } from './vitrine-cookie.mjs';
//   res.setHeader('set-cookie', setVitrineCookie(customer.id, process.env.VITRINE_COOKIE_SECRET));
//
//   VITRINE_COOKIE_SECRET=… node vitrine-cookie.mjs c-17850   # prints the value
import { createHmac } from 'node:crypto';

const VID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The cookie's value: `<vid>.<first 16 bytes of HMAC-SHA256(secret, vid), lowercase hex>`. */
export function vitrineCookie(vid, secret) {
  if (!VID.test(vid)) throw new Error(`visitor id: expected letters, digits and -_.: (1 to 128), found ${JSON.stringify(vid)}`);
  if (!secret) throw new Error('VITRINE_COOKIE_SECRET is empty');
  return `${vid}.${createHmac('sha256', secret).update(vid).digest('hex').slice(0, 32)}`;
}

/** A whole `Set-Cookie` header value; `null` as the id clears the cookie (at logout). */
export function setVitrineCookie(vid, secret) {
  const attrs = 'Path=/; HttpOnly; SameSite=Lax; Secure';
  return vid === null ? `vitrine_vid=; ${attrs}; Max-Age=0` : `vitrine_vid=${vitrineCookie(vid, secret)}; ${attrs}; Max-Age=31536000`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(vitrineCookie(process.argv[2] ?? '', process.env.VITRINE_COOKIE_SECRET ?? ''));
}
