// Hash routes ("#/runs/abc?tab=x"): the edge serves index.html for "/" only, so the
// route lives in the fragment and every page survives a reload without server rewrites.
import { useEffect, useState } from "react";

export interface Route {
  page: string; // "files", "sessions", "runs", "evaluation", "registry"
  id: string; // the rest of the path, e.g. "abc" for "#/runs/abc"; may contain "/"
  params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const body = hash.replace(/^#\/?/, "");
  const [path, query = ""] = body.split("?");
  const [page = "", ...rest] = path.split("/");
  return { page: page || "files", id: rest.map(decodeURIComponent).join("/"), params: new URLSearchParams(query) };
}

export function href(page: string, id = "", params: Record<string, string> = {}): string {
  const q = new URLSearchParams(params).toString();
  return `#/${page}${id ? "/" + id.split("/").map(encodeURIComponent).join("/") : ""}${q ? "?" + q : ""}`;
}

export function navigate(page: string, id = "", params: Record<string, string> = {}): void {
  window.location.hash = href(page, id, params);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
