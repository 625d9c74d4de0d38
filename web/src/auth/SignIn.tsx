import { useState } from "react";

// Paste a bearer token (`tsforge token --tenant NAME`), or open the link `tsforge up`
// prints (the token in the fragment).
export function SignIn({ reason, onSignIn }: { reason: string | null; onSignIn: (token: string) => void }) {
  const [token, setToken] = useState("");
  return (
    <main id="main" className="signin">
      <h1>Sign in to tsforge</h1>
      {reason && <p role="alert" className="error">{reason}</p>}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const t = token.trim().replace(/^Bearer\s+/i, "");
          if (t) onSignIn(t);
        }}
      >
        <label htmlFor="token">Bearer token</label>
        <textarea id="token" name="token" rows={4} value={token} onChange={(e) => setToken(e.target.value)}
          aria-describedby="token-help" autoComplete="off" spellCheck={false} required />
        <p id="token-help" className="help">
          Print one with <code>tsforge token --tenant NAME</code>, or open the link <code>tsforge up</code> prints.
          The token is kept in this tab only (sessionStorage).
        </p>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
