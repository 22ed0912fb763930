// A cdk8s app as `cdk8s init typescript-app` lays it out (CommonJS, the template's tsconfig, jest), using the
// construct from the asm-web-service npm package. test/construct/cdk8s-apps.test.ts installs it beside the packed
// tarball; python/main.py is the same app in Python and must synthesize the same bytes.
import { App, Chart, ChartProps, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { AsmWebService } from 'asm-web-service';

export class ShopChart extends Chart {
  public readonly web: AsmWebService;

  constructor(scope: Construct, id: string, image: string, props: ChartProps = {}) {
    super(scope, id, props);
    // Props of every kind jsii carries across languages: strings, numbers, booleans, maps, lists, an enum
    // (kplus.ServiceType), cdk8s and cdk8s-plus classes (Duration, Size, kplus.Cpu) and the library's own structs.
    this.web = new AsmWebService(this, 'web', {
      image,
      name: 'shop-web',
      serviceType: kplus.ServiceType.LOAD_BALANCER,
      servicePort: 80,
      labels: { 'example.com/team': 'shop' },
      annotations: { 'example.com/owner': 'shop-team' },
      podAnnotations: { 'example.com/scrape': 'false' },
      cpuRequest: kplus.Cpu.millis(20),
      memoryLimit: Size.mebibytes(256),
      drainPeriod: Duration.seconds(10),
      readinessPeriod: Duration.seconds(3),
      autoscaling: { minReplicas: 3, maxReplicas: 12, scaleDownStabilization: Duration.minutes(1) },
      networkPolicy: true,
      accessLog: true,
      httpRoute: { gatewayName: 'public', gatewayNamespace: 'gateways', hostnames: ['shop.example.com'] },
    });
  }
}

if (require.main === module) {
  const app = new App();
  new ShopChart(app, 'shop', process.env.IMAGE ?? '', { namespace: 'shop' });
  app.synth();
}
