// The e2e test's observed app: the construct with `metrics` on a port of their own (9100), announced by the
// conventional prometheus.io pod annotations that the test's Prometheus discovers the pods by, and `accessLog`
// (ACCESS_LOG=json: one JSON line on stdout per response, which the test reads with kubectl logs); two pods.
// Synthesized to OUTDIR with the image IMAGE: `IMAGE=... OUTDIR=... tsx test/e2e/metrics-app.ts`.
import { App, Chart } from 'cdk8s';
import { AsmWebService } from '../../lib/asm-web-service.js';

const app = new App({ outdir: process.env.OUTDIR });
const chart = new Chart(app, 'observed');
new AsmWebService(chart, 'server', {
  image: process.env.IMAGE!,
  name: 'observed',
  replicas: 2,
  metrics: { port: 9100 },
  accessLog: true,
});
app.synth();
