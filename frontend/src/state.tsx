/** What several parts of the screen share: the member, the daily allowance and the conversation list's freshness. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import * as api from "./api";

interface AppState {
  /** Who is logged in (null until loaded): says whether the operator area is theirs. */
  me: api.Me | null;
  quota: api.Quota | null;
  setQuota: (quota: api.Quota) => void;
  reloadQuota: () => void;
  listVersion: number;
  reloadList: () => void;
}

const StateContext = createContext<AppState | null>(null);

export function AppStateProvider({ children }: { children: ReactNode }) {
  const [quota, setQuotaState] = useState<api.Quota | null>(null);
  const [listVersion, setListVersion] = useState(0);
  const [me, setMe] = useState<api.Me | null>(null);
  const reloadQuota = useCallback(() => {
    api.quota().then(setQuotaState, () => undefined);
  }, []);
  const setQuota = useCallback((next: api.Quota) => {
    // Stream events carry limit/used/remaining/resets_at but not the time zone.
    setQuotaState((previous) => ({ ...next, time_zone: next.time_zone ?? previous?.time_zone }));
  }, []);
  const reloadList = useCallback(() => setListVersion((v) => v + 1), []);
  useEffect(reloadQuota, [reloadQuota]);
  useEffect(() => {
    api.me().then(setMe, () => undefined);
  }, []);
  const value = useMemo(
    () => ({ me, quota, setQuota, reloadQuota, listVersion, reloadList }),
    [me, quota, setQuota, reloadQuota, listVersion, reloadList],
  );
  return <StateContext.Provider value={value}>{children}</StateContext.Provider>;
}

export function useAppState(): AppState {
  const context = useContext(StateContext);
  if (!context) throw new Error("useAppState outside AppStateProvider");
  return context;
}
