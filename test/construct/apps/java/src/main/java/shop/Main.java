// The app of test/construct/apps/typescript/main.ts in Java: the construct from the jar that build/packages/java builds,
// cdk8s and cdk8s-plus-28 from jars jsii-pacmak builds from their npm packages (Maven Central, as reached here, has
// no cdk8s-plus-28). test/construct/cdk8s-apps.test.ts runs it and compares its manifests with the TypeScript app's.
package shop;

import java.util.List;
import java.util.Map;

import io.github.asmwebservice.AsmWebService;
import io.github.asmwebservice.AsmWebServiceAutoscaling;
import io.github.asmwebservice.AsmWebServiceHttpRoute;
import io.github.asmwebservice.AsmWebServiceProps;
import org.cdk8s.App;
import org.cdk8s.Chart;
import org.cdk8s.ChartProps;
import org.cdk8s.Duration;
import org.cdk8s.Size;
import org.cdk8s.plus28.Cpu;
import org.cdk8s.plus28.ServiceType;

public final class Main {
    public static void main(final String[] args) {
        App app = new App();
        Chart chart = new Chart(app, "shop", ChartProps.builder().namespace("shop").build());
        AsmWebService web = new AsmWebService(chart, "web", AsmWebServiceProps.builder()
                .image(System.getenv().getOrDefault("IMAGE", ""))
                .name("shop-web")
                .serviceType(ServiceType.LOAD_BALANCER)
                .servicePort(80)
                .labels(Map.of("example.com/team", "shop"))
                .annotations(Map.of("example.com/owner", "shop-team"))
                .podAnnotations(Map.of("example.com/scrape", "false"))
                .cpuRequest(Cpu.millis(20))
                .memoryLimit(Size.mebibytes(256))
                .drainPeriod(Duration.seconds(10))
                .readinessPeriod(Duration.seconds(3))
                .autoscaling(AsmWebServiceAutoscaling.builder()
                        .minReplicas(3)
                        .maxReplicas(12)
                        .scaleDownStabilization(Duration.minutes(1))
                        .build())
                .networkPolicy(true)
                .accessLog(true)
                .httpRoute(AsmWebServiceHttpRoute.builder()
                        .gatewayName("public")
                        .gatewayNamespace("gateways")
                        .hostnames(List.of("shop.example.com"))
                        .build())
                .build());
        System.out.println(web.getUrl());
        app.synth();
    }
}
