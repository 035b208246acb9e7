import { render } from "solid-js/web";
import "./styles.css";
import "./utilities.css";
import { transport } from "./transport";
import { initTheme } from "./app/theme";
import { App } from "./app/App";

initTheme();
// Choose the transport first: in a browser it takes the token out of the URL before the
// router reads the hash.
void transport().then(() => {
  const root = document.getElementById("root");
  if (root) render(() => <App />, root);
});
