// The shell: sign-in, navigation, and the page of the current route. Evaluation and
// registry pages (with their charts) load on first use, keeping the entry bundle small.
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createClients } from "../api/clients";
import { createTransport } from "../api/transport";
import { adoptTokenFromLocation, SIGN_OUT_REASON_KEY, TOKEN_KEY, tokenClaims } from "../auth/token";
import { SignIn } from "../auth/SignIn";
import { href, useRoute } from "../lib/router";
import { AuthContext, ClientsContext } from "./context";
import { FilesPage } from "../pages/FilesPage";
import { SessionsPage } from "../pages/SessionsPage";
import { RunsPage } from "../pages/RunsPage";

const EvaluationPage = lazy(() => import("../pages/EvaluationPage"));
const RegistryPage = lazy(() => import("../pages/RegistryPage"));

const PAGES = [
  { page: "files", label: "Files" },
  { page: "sessions", label: "Sessions" },
  { page: "runs", label: "Runs" },
  { page: "evaluation", label: "Evaluation" },
  { page: "registry", label: "Registry" },
];

export function App() {
  const [token, setToken] = useState<string | null>(() => adoptTokenFromLocation());
  const [reason, setReason] = useState<string | null>(() => sessionStorage.getItem(SIGN_OUT_REASON_KEY));
  const tokenRef = useRef(token);
  tokenRef.current = token;

  const signOut = useCallback((why?: string) => {
    sessionStorage.removeItem(TOKEN_KEY);
    if (why) sessionStorage.setItem(SIGN_OUT_REASON_KEY, why);
    else sessionStorage.removeItem(SIGN_OUT_REASON_KEY);
    setReason(why ?? null);
    setToken(null);
  }, []);

  const signIn = useCallback((t: string) => {
    sessionStorage.setItem(TOKEN_KEY, t);
    sessionStorage.removeItem(SIGN_OUT_REASON_KEY);
    setReason(null);
    setToken(t);
  }, []);

  // A token in the fragment later (a pasted link) signs in too.
  useEffect(() => {
    const onHash = () => {
      const t = adoptTokenFromLocation();
      if (t && t !== tokenRef.current) signIn(t);
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, [signIn]);

  const transport = useMemo(
    () =>
      createTransport({
        token: () => tokenRef.current,
        onUnauthenticated: (why) => {
          if (tokenRef.current) signOut(`Signed out: ${why}`);
        },
      }),
    [signOut],
  );
  const clients = useMemo(() => createClients(transport), [transport]);
  const queryClient = useMemo(
    () => new QueryClient({ defaultOptions: { queries: { retry: 1, staleTime: 5_000, refetchOnWindowFocus: false } } }),
    [],
  );
  // A different tenant must not see the cached data of the one before.
  useEffect(() => {
    if (!token) queryClient.clear();
  }, [token, queryClient]);

  if (!token) return <SignIn reason={reason} onSignIn={signIn} />;
  const tenant = tokenClaims(token)?.sub ?? "unknown tenant";
  return (
    <AuthContext.Provider value={{ token, tenant, signOut }}>
      <ClientsContext.Provider value={clients}>
        <QueryClientProvider client={queryClient}>
          <Shell tenant={tenant} onSignOut={() => signOut()} />
        </QueryClientProvider>
      </ClientsContext.Provider>
    </AuthContext.Provider>
  );
}

function Shell({ tenant, onSignOut }: { tenant: string; onSignOut: () => void }) {
  const route = useRoute();
  const mainRef = useRef<HTMLElement>(null);
  const current = PAGES.find((p) => p.page === route.page) ?? PAGES[0];
  useEffect(() => {
    document.title = `${current.label} · tsforge`;
  }, [current.label]);
  return (
    <>
      <a className="skip-link" href="#main" onClick={(e) => { e.preventDefault(); mainRef.current?.focus(); }}>
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">tsforge</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.page}>
                <a href={href(p.page)} aria-current={p.page === current.page ? "page" : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span className="tenant" title="Signed in as">{tenant}</span>
        <button type="button" className="secondary" onClick={onSignOut}>Sign out</button>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        <Suspense fallback={<p role="status">Loading…</p>}>
          {current.page === "files" && <FilesPage route={route} />}
          {current.page === "sessions" && <SessionsPage route={route} />}
          {current.page === "runs" && <RunsPage route={route} />}
          {current.page === "evaluation" && <EvaluationPage route={route} />}
          {current.page === "registry" && <RegistryPage route={route} />}
        </Suspense>
      </main>
    </>
  );
}
