#!/usr/bin/env python
"""The app of ../typescript/main.ts in Python: the construct from the asm-web-service wheel, cdk8s, cdk8s-plus-28
and constructs from PyPI. test/construct/cdk8s-apps.test.ts runs both and compares their manifests byte for byte."""
import os

import cdk8s_plus_28 as kplus
from cdk8s import App, Chart, Duration, Size
from constructs import Construct

from asm_web_service import AsmWebService, AsmWebServiceAutoscaling, AsmWebServiceHttpRoute


class ShopChart(Chart):
    def __init__(self, scope: Construct, id: str, image: str, namespace: str):
        super().__init__(scope, id, namespace=namespace)
        self.web = AsmWebService(
            self,
            "web",
            image=image,
            name="shop-web",
            service_type=kplus.ServiceType.LOAD_BALANCER,
            service_port=80,
            labels={"example.com/team": "shop"},
            annotations={"example.com/owner": "shop-team"},
            pod_annotations={"example.com/scrape": "false"},
            cpu_request=kplus.Cpu.millis(20),
            memory_limit=Size.mebibytes(256),
            drain_period=Duration.seconds(10),
            readiness_period=Duration.seconds(3),
            autoscaling=AsmWebServiceAutoscaling(
                min_replicas=3, max_replicas=12, scale_down_stabilization=Duration.minutes(1)
            ),
            network_policy=True,
            access_log=True,
            http_route=AsmWebServiceHttpRoute(
                gateway_name="public", gateway_namespace="gateways", hostnames=["shop.example.com"]
            ),
        )


app = App()
chart = ShopChart(app, "shop", os.environ.get("IMAGE", ""), namespace="shop")
print(chart.web.url)
app.synth()
