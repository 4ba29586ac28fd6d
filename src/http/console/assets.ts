// The console's style sheet and icon, served by the service itself (no CDN, no outside request).

/** The one style sheet: readable on a phone, visible focus, no script needed anywhere. */
export const CONSOLE_CSS = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --accent: #0b5cad;
  --ok: #1a7f37; --bad: #b3261e; --warn: #8a5a00; --paper: #fff; --tint: #f6f8fa; }
* { box-sizing: border-box; }
html { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: var(--paper); }
body { margin: 0; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 .5rem; overflow-wrap: anywhere; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; }
a { color: var(--accent); }
code { font: .9em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
.skip { position: absolute; left: -9999px; top: .5rem; background: var(--paper); padding: .5rem; }
.skip:focus { left: .5rem; z-index: 2; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.banner { margin: 0; padding: .6rem 1rem; background: #fff4ce; border-bottom: 2px solid #d4a72c;
  color: #4d3800; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .6rem 1rem;
  border-bottom: 1px solid var(--line); background: var(--tint); }
.brand { font-weight: 700; }
.top nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
.top nav a { text-decoration: none; padding: .25rem 0; }
.top nav a[aria-current="page"] { font-weight: 700; border-bottom: 3px solid var(--accent); }
.sign-out { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
.who { color: var(--muted); font-size: .9rem; }
form.upload, form.sign-in { display: grid; gap: .35rem; max-width: 36rem; margin-top: 1rem; }
label { font-weight: 600; margin-top: .6rem; }
.hint { color: var(--muted); font-size: .9rem; margin: 0 0 .25rem; }
input[type="text"], input[type="password"], select { font: inherit; padding: .45rem .6rem;
  border: 1px solid #8c959f; border-radius: 6px; width: 100%; }
input.drop { padding: 1.5rem 1rem; border: 2px dashed #8c959f; border-radius: 8px;
  background: var(--tint); width: 100%; font: inherit; }
button, .button { font: inherit; font-weight: 600; padding: .5rem 1rem; border-radius: 6px;
  border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer;
  text-decoration: none; display: inline-block; }
form.upload button, form.sign-in button { margin-top: 1rem; justify-self: start; }
button.link { background: none; border: none; color: var(--accent); padding: 0; text-decoration: underline; }
form.inline { margin: .5rem 0 1rem; }
.notice { padding: .6rem 1rem; border-radius: 6px; border-left: 5px solid; }
.notice.ok { background: #dafbe1; border-color: var(--ok); }
.notice.error { background: #ffebe9; border-color: var(--bad); }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .5rem;
  margin: 1rem 0; }
.facts div { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; }
.facts dt { color: var(--muted); font-size: .85rem; }
.facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid var(--line); }
thead th { background: var(--tint); white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
ul.fields { margin: 0; padding-left: 1rem; }
td > code { overflow-wrap: normal; white-space: nowrap; }
td button { white-space: nowrap; }
.events .pending { color: var(--warn); font-weight: 600; }
.events .failed, .state.down { color: var(--bad); font-weight: 600; }
.state.up { color: var(--ok); }
@media (max-width: 40rem) {
  main { padding: .75rem; }
  h1 { font-size: 1.3rem; }
  .sign-out { margin-left: 0; }
  th, td { padding: .35rem .45rem; }
}
`;

/** The tab icon (an SVG, so the page asks for nothing it does not serve). */
export const CONSOLE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">` +
  `<rect width="16" height="16" rx="3" fill="#0b5cad"/>` +
  `<path d="M4 8.5l2.5 2.5L12 5" stroke="#fff" stroke-width="2" fill="none"/></svg>`;
