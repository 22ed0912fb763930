// A cdk8s app as `cdk8s init typescript-app` lays it out (CommonJS, the template's tsconfig, jest), using the
// construct from the asm-web-service npm package. test/construct/cdk8s-apps.test.ts installs it beside the packed
// tarball; python/main.py is the same app in Python and must synthesize the same bytes.
import { App, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { AsmWebService } from 'asm-web-service';

export class ShopChart extends Chart {
  public readonly web: AsmWebService;

  constructor(scope: Construct, id: string, image: string, props: ChartProps = {}) {
    super(scope, id, props);
    this.web = new AsmWebService(this, 'web', {
      image,
      name: 'shop-web',
      replicas: 3,
      serviceType: 'LoadBalancer',
      labels: { 'example.com/team': 'shop' },
      annotations: { 'example.com/owner': 'shop-team' },
      podAnnotations: { 'example.com/scrape': 'false' },
      drainSeconds: 10,
    });
  }
}

if (require.main === module) {
  const app = new App();
  new ShopChart(app, 'shop', process.env.IMAGE ?? '', { namespace: 'shop' });
  app.synth();
}
