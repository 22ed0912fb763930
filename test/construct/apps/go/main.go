// The app of ../typescript/main.ts in Go: the construct from jsii-pacmak's Go module (build/packages/go), cdk8s and
// cdk8s-plus-28 from Go modules jsii-pacmak generates from their npm packages' assemblies (the cdk8s-team modules
// themselves are not served by the Go module proxy here). test/construct/cdk8s-apps.test.ts writes the go.mod that
// points at them, runs it, and compares its manifests with the TypeScript app's, byte for byte.
package main

import (
	"fmt"
	"os"

	"github.com/asm-web-service/asm-web-service-go/asmwebservice"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"
	"github.com/cdk8s-team/cdk8s-plus-go/cdk8splus28/v2"
)

func main() {
	app := cdk8s.NewApp(nil)
	chart := cdk8s.NewChart(app, jsii.String("shop"), &cdk8s.ChartProps{Namespace: jsii.String("shop")})
	web := asmwebservice.NewAsmWebService(chart, jsii.String("web"), &asmwebservice.AsmWebServiceProps{
		Image:           jsii.String(os.Getenv("IMAGE")),
		Name:            jsii.String("shop-web"),
		ServiceType:     cdk8splus28.ServiceType_LOAD_BALANCER,
		ServicePort:     jsii.Number(80),
		Labels:          &map[string]*string{"example.com/team": jsii.String("shop")},
		Annotations:     &map[string]*string{"example.com/owner": jsii.String("shop-team")},
		PodAnnotations:  &map[string]*string{"example.com/scrape": jsii.String("false")},
		CpuRequest:      cdk8splus28.Cpu_Millis(jsii.Number(20)),
		MemoryLimit:     cdk8s.Size_Mebibytes(jsii.Number(256)),
		DrainPeriod:     cdk8s.Duration_Seconds(jsii.Number(10)),
		ReadinessPeriod: cdk8s.Duration_Seconds(jsii.Number(3)),
		Autoscaling: &asmwebservice.AsmWebServiceAutoscaling{
			MinReplicas:            jsii.Number(3),
			MaxReplicas:            jsii.Number(12),
			ScaleDownStabilization: cdk8s.Duration_Minutes(jsii.Number(1)),
		},
		NetworkPolicy: jsii.Bool(true),
		AccessLog:     jsii.Bool(true),
		HttpRoute: &asmwebservice.AsmWebServiceHttpRoute{
			GatewayName:      jsii.String("public"),
			GatewayNamespace: jsii.String("gateways"),
			Hostnames:        &[]*string{jsii.String("shop.example.com")},
		},
	})
	fmt.Println(*web.Url())
	app.Synth()
}
