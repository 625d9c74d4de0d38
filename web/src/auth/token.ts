// The bearer token: pasted on the sign-in page or handed over in the URL fragment
// ("/#token=…", which never reaches a server log), then kept in sessionStorage only.
export const TOKEN_KEY = "tsforge.token";
export const SIGN_OUT_REASON_KEY = "tsforge.signOutReason";

export interface FragmentToken {
  token: string | null;
  rest: string; // the fragment without the token, e.g. "#/files" or ""
}

// Reads "token=…" from a fragment such as "#token=abc" or "#/runs&token=abc".
export function tokenFromFragment(hash: string): FragmentToken {
  const body = hash.startsWith("#") ? hash.slice(1) : hash;
  const parts = body.split("&");
  let token: string | null = null;
  const kept: string[] = [];
  for (const part of parts) {
    if (part.startsWith("token=")) token = decodeURIComponent(part.slice("token=".length)) || null;
    else if (part) kept.push(part);
  }
  return { token, rest: kept.length ? "#" + kept.join("&") : "" };
}

// The claims of a JWT, unverified (for display: tenant and expiry), or null.
export function tokenClaims(token: string): { sub?: string; exp?: number } | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

// Takes a token out of the address bar into sessionStorage; returns the stored token.
export function adoptTokenFromLocation(storage: Storage = sessionStorage): string | null {
  const { token, rest } = tokenFromFragment(window.location.hash);
  if (token) {
    storage.setItem(TOKEN_KEY, token);
    storage.removeItem(SIGN_OUT_REASON_KEY);
    history.replaceState(null, "", window.location.pathname + window.location.search + rest);
  }
  return storage.getItem(TOKEN_KEY);
}
