// The sign-in page (an API key, never kept in the browser) and the page every console error shows.
import { Frame, Notice } from "./layout.tsx";

/** The sign-in form; `error` says why the last try failed. */
export function SignInPage(props: { error?: string }) {
  return (
    <Frame title="Sign in" section="sign-in" open={false}>
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <form method="post" action="/console/sign-in" class="sign-in">
        <label for="key">API key</label>
        <p class="hint" id="key-hint">
          A user key shows your uploads and batches; an admin key also shows publishing and dead
          letters. The key stays on the server: the browser keeps only a signed session.
        </p>
        <input
          id="key"
          name="key"
          type="password"
          required
          autocomplete="current-password"
          aria-describedby="key-hint"
        />
        <button type="submit">Sign in</button>
      </form>
    </Frame>
  );
}

/** An error as a page: what went wrong, its stable code, and the request id that finds it in logs. */
export function ErrorPage(props: {
  open: boolean;
  code: string;
  message: string;
  requestId: string;
}) {
  return (
    <Frame title="Something went wrong" section="error" open={props.open}>
      <Notice kind="error">{props.message}</Notice>
      <p>
        Code <code>{props.code}</code>, request <code>{props.requestId}</code>.
      </p>
      <p>
        <a href="/console">Back to the console</a>
      </p>
    </Frame>
  );
}
