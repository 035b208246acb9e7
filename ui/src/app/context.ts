import { createContext, useContext } from "solid-js";
import type { Router } from "../router";

export const RouterContext = createContext<Router>();

export function useRouter(): Router {
  const r = useContext(RouterContext);
  if (!r) throw new Error("useRouter outside <App>");
  return r;
}
