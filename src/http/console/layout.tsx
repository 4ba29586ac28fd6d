// The console's page frame (banner, navigation, sign-out) and the small pieces every page shares.
import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import { formatCount } from "../../cli/progress.ts";
import { type ConsoleSession, CSRF_FIELD } from "./session.ts";

/** Where a page sits in the navigation. */
export type Section = "upload" | "batches" | "publishing" | "sign-in" | "error";

/** What every page's frame needs. */
export interface FrameProps {
  title: string;
  section: Section;
  session?: ConsoleSession;
  /** True when no API key is configured: the banner says anyone may use the console. */
  open: boolean;
  children?: Child;
}

const NAV: Array<{ section: Section; href: string; label: string; admin?: boolean }> = [
  { section: "upload", href: "/console/upload", label: "Upload" },
  { section: "batches", href: "/console/batches", label: "Batches" },
  { section: "publishing", href: "/console/publishing", label: "Publishing", admin: true },
];

/** A whole page: the document, the banner when access control is off, navigation and main. */
export function Frame(props: FrameProps) {
  const { session } = props;
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{props.title} · execution-ingest console</title>
          <link rel="stylesheet" href="/console/assets/console.css" />
          <link rel="icon" href="/console/assets/icon.svg" type="image/svg+xml" />
        </head>
        <body>
          <a class="skip" href="#main">Skip to the content</a>
          {props.open && (
            <p class="banner" role="status">
              Access control is off: no <code>API_KEYS</code> or <code>ADMIN_API_KEYS</code>{" "}
              are set, so anyone who can reach this port can upload and re-queue here. Development
              only.
            </p>
          )}
          <header class="top">
            <span class="brand">execution-ingest</span>
            {session && (
              <nav aria-label="Console">
                <ul>
                  {NAV.filter((item) => !item.admin || session.role === "admin").map((item) => (
                    <li>
                      <a
                        href={item.href}
                        aria-current={item.section === props.section ? "page" : undefined}
                      >
                        {item.label}
                      </a>
                    </li>
                  ))}
                </ul>
              </nav>
            )}
            {session && !props.open && (
              <form method="post" action="/console/sign-out" class="sign-out">
                <CsrfField session={session} />
                <span class="who">{session.role} key {session.keyId}</span>
                <button type="submit" class="link">Sign out</button>
              </form>
            )}
          </header>
          <main id="main">
            <h1>{props.title}</h1>
            {props.children}
          </main>
        </body>
      </html>
    </>
  );
}

/** The hidden field holding the session's form token. */
export function CsrfField(props: { session: ConsoleSession }) {
  return <input type="hidden" name={CSRF_FIELD} value={props.session.csrfToken} />;
}

/** An instant in UTC, readable, with its exact value for machines. */
export function Instant(props: { at: string }) {
  return <time datetime={props.at}>{props.at.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC")}
  </time>;
}

/** A whole number with thousands separators, written as the CLI writes its counts. */
export function count(n: number): string {
  return formatCount(n);
}

/** A notice for the user: what happened, or what went wrong. */
export function Notice(props: { kind: "ok" | "error"; children?: Child }) {
  return (
    <p class={`notice ${props.kind}`} role={props.kind === "error" ? "alert" : "status"}>
      {props.children}
    </p>
  );
}

/** A list of label/value pairs, such as a batch's counts. */
export function Facts(props: { items: Array<[label: string, value: Child]> }) {
  return (
    <dl class="facts">
      {props.items.map(([label, value]) => (
        <div>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
