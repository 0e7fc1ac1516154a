// Package portal is the Client Portal: the server-rendered web pages through
// which a client logs in with any of its security devices, activates IB Key
// and an Online Security Code Card, verifies its mobile number, manages its
// Secure Login System settings and message-center preferences, and asks for
// withdrawals.
//
// Pages are html/template templates and one CSS file embedded in the binary;
// no front-end build step. The only script waits for an IB Key push so that
// the page moves on by itself; everything else works with JavaScript off.
//
// The portal calls the services directly (login, manage, the notify,
// IB Key and protection features), never the JSON API over HTTP. It differs
// from the API in how it authenticates: a cookie carries the session token,
// so every state-changing request is checked against cross-site forgery
// twice — a synchronizer token bound to the session (or, before login, to a
// pre-session cookie) and the browser's Sec-Fetch-Site/Origin headers — and
// every page carries a strict Content-Security-Policy. See docs/portal.md.
package portal
