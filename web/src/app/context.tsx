// The console's clients and sign-in state, shared through React context.
import { createContext, useContext } from "react";
import type { Clients } from "../api/clients";

export interface Auth {
  token: string;
  tenant: string;
  signOut(reason?: string): void;
}

export const ClientsContext = createContext<Clients | null>(null);
export const AuthContext = createContext<Auth | null>(null);

export function useClients(): Clients {
  const clients = useContext(ClientsContext);
  if (!clients) throw new Error("no clients: render inside <ClientsContext.Provider>");
  return clients;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("not signed in");
  return auth;
}
