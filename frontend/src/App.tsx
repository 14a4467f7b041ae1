import { lazy, Suspense, useEffect, useState, type ReactNode } from "react";
import { HashRouter, Navigate, Outlet, Route, Routes, useLocation, useNavigate } from "react-router";
import { SESSION_EXPIRED, tokens } from "./api";
import { Sidebar } from "./components/Sidebar";
import { applyStoredTheme } from "./components/theme";
import { I18nProvider, useI18n } from "./i18n";
import { loginPath } from "./next";
import { ConversationPage } from "./pages/ConversationPage";
import { HomePage } from "./pages/HomePage";
import { AccountPage } from "./pages/AccountPage";
import { LoginPage, SignupPage } from "./pages/AuthPages";
import { OAuthPage } from "./pages/OAuthPage";
import { JoinPage } from "./pages/JoinPage";
import { ForgotPasswordPage, ResetPasswordPage } from "./pages/PasswordResetPages";
import { AppStateProvider } from "./state";

// Before the first render: a member who chose light or dark never sees the other flash by.
applyStoredTheme();

/** The operator area is a chunk of its own: members who run no group never download it. */
const OperatorArea = lazy(() => import("./operator"));
/** So are the usage pages, with their charting library. */
const UsageDashboard = lazy(() => import("./usage/UsageDashboard"));
const MyUsagePage = lazy(() => import("./usage/MyUsagePage"));

function OperatorRoute() {
  return (
    <LazyPage>
      <OperatorArea />
    </LazyPage>
  );
}

function LazyPage({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  return (
    <Suspense
      fallback={
        <section className="page">
          <p className="muted" role="status">
            {t("loading")}
          </p>
        </section>
      }
    >
      {children}
    </Suspense>
  );
}

/** Chat pages are for members: anyone else goes to the login page, which brings them back here. */
function RequireMember() {
  const location = useLocation();
  const navigate = useNavigate();
  useEffect(() => {
    const expired = () => navigate(`${loginPath(location.pathname + location.search)}`, { state: { expired: true } });
    window.addEventListener(SESSION_EXPIRED, expired);
    return () => window.removeEventListener(SESSION_EXPIRED, expired);
  }, [location, navigate]);
  if (!tokens.present()) {
    return <Navigate to={loginPath(location.pathname + location.search)} replace />;
  }
  return (
    <AppStateProvider>
      <Layout />
    </AppStateProvider>
  );
}

function Layout() {
  const { t } = useI18n();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  useEffect(() => setMenuOpen(false), [location.pathname]);
  return (
    <div className={`layout${menuOpen ? " menu-open" : ""}`}>
      <button
        type="button"
        className="menu-button"
        aria-label={t("menu")}
        aria-expanded={menuOpen}
        onClick={() => setMenuOpen((o) => !o)}
      >
        ☰
      </button>
      <Sidebar />
      <main className="main">
        <Outlet />
      </main>
    </div>
  );
}

export function App() {
  return (
    <I18nProvider>
      <HashRouter>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route path="/signup" element={<SignupPage />} />
          <Route path="/oauth" element={<OAuthPage />} />
          <Route path="/forgot" element={<ForgotPasswordPage />} />
          <Route path="/reset/:token" element={<ResetPasswordPage />} />
          <Route element={<RequireMember />}>
            <Route path="/" element={<HomePage />} />
            <Route path="/c/:id" element={<ConversationPage />} />
            <Route path="/account" element={<AccountPage />} />
            <Route path="/join/:code" element={<JoinPage />} />
            <Route path="/groups/*" element={<OperatorRoute />} />
            <Route
              path="/usage"
              element={
                <LazyPage>
                  <UsageDashboard />
                </LazyPage>
              }
            />
            <Route
              path="/my-usage"
              element={
                <LazyPage>
                  <MyUsagePage />
                </LazyPage>
              }
            />
          </Route>
          <Route path="*" element={<Navigate to="/" replace />} />
        </Routes>
      </HashRouter>
    </I18nProvider>
  );
}
