// The e2e test's autoscaled app: the construct with `autoscaling` (1 to 3 pods at 50 % of the 10m CPU request),
// its windows shortened so the test sees a scale-out and a scale-in within minutes. Synthesized to OUTDIR with
// the image IMAGE: `IMAGE=... OUTDIR=... tsx test/e2e/autoscaling-app.ts`.
import { App, Chart, Duration } from 'cdk8s';
import { AsmWebService } from '../../lib/asm-web-service.js';

const app = new App({ outdir: process.env.OUTDIR });
const chart = new Chart(app, 'autoscaled');
new AsmWebService(chart, 'server', {
  image: process.env.IMAGE!,
  autoscaling: {
    minReplicas: 1,
    maxReplicas: 3,
    targetCpuUtilizationPercent: 50,
    scaleUpStabilization: Duration.seconds(0),
    scaleDownStabilization: Duration.seconds(10),
  },
});
app.synth();
