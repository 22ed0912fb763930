// The jest test of the cdk8s init template, for the app in main.ts.
import { Testing } from 'cdk8s';
import { ShopChart } from './main';

const IMAGE = `127.0.0.1:5000/asm-web-service@sha256:${'ab'.repeat(32)}`;

describe('ShopChart', () => {
  test('deploys asm-web-service from the package', () => {
    const chart = new ShopChart(Testing.app(), 'shop', IMAGE, { namespace: 'shop' });
    const objects = Testing.synth(chart);
    expect(objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'Deployment shop/shop-web',
      'Service shop/shop-web',
      'PodDisruptionBudget shop/shop-web',
      'HorizontalPodAutoscaler shop/shop-web',
      'NetworkPolicy shop/shop-web',
      'HTTPRoute shop/shop-web',
    ]);
    expect(objects[0].spec.template.spec.containers[0].image).toBe(IMAGE);
    expect(objects[0].spec.template.spec.containers[0].env).toContainEqual({ name: 'ACCESS_LOG', value: 'json' });
    expect(objects[0].spec.replicas).toBeUndefined(); // left to the autoscaler
    expect(chart.web.url).toBe('http://shop-web.shop.svc');
  });

  test('rejects a tagged image with the message that names the prop', () => {
    expect(() => new ShopChart(Testing.app(), 'shop', 'asm-web-service:latest')).toThrow(/'image' must be pinned by digest/);
  });
});
