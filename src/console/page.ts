/** The Content-Security-Policy of every console response: nothing from any other host, no inline code. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The one page shell: the script fills <main> from the console API (text only, never HTML), so
 * the same words reach the browser as approve-cli prints.
 */
export function shell(page: 'home' | 'request' | 'enroll'): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kubegate approvals</title>
<link rel="stylesheet" href="/kubegate/ui/assets/console.css">
<script src="/kubegate/ui/assets/webauthn.js" defer></script>
<script src="/kubegate/ui/assets/console.js" defer></script>
</head>
<body data-page="${page}">
<header><a href="/kubegate/ui/" class="brand">kubegate approvals</a><span id="who" aria-live="polite"></span></header>
<div id="status" role="status" aria-live="polite"></div>
<main id="main"><p>Loading…</p></main>
</body>
</html>
`;
}
