"""Send real MNIST digits to a deployed servebox model and show each digit, the answer and the truth.

The endpoint comes from the stack outputs (`infer_url` or `predict_url`, by the stack's `protocol`
unless --protocol says otherwise, and `host_header`) or from --url. The digits are held-out images from the bundled sample, never seen in training.

    python scripts/predict.py                      # the selected stack, its protocol, 5 digits
    python scripts/predict.py --protocol v1        # the same model over KServe V1
    python scripts/predict.py --stack dev --count 10
    python scripts/predict.py --url http://127.0.0.1:8080 --model mnist
    python scripts/predict.py --url http://1.2.3.4/v1/models/mnist:predict --protocol v1 \
        --host-header mnist.models.example.com
"""

from __future__ import annotations

import argparse
import sys
import time

from servebox import mnist_client


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return 0 when the model answered, 2 when it could not be asked."""
    parser = argparse.ArgumentParser(description="Send held-out MNIST digits to the model and show the answers.")
    mnist_client.add_endpoint_arguments(parser, "inference URL, or a base URL completed with --model and --protocol")
    parser.add_argument("--count", type=int, default=5, help="digits to send (default 5)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the answer (default 30)")
    args = parser.parse_args(argv)

    try:
        endpoint = mnist_client.resolve_endpoint(
            url=args.url, stack=args.stack, host_header=args.host_header, model_name=args.model, protocol=args.protocol
        )
        samples = mnist_client.load_samples(args.count)
        started = time.perf_counter()
        answers = mnist_client.predict(endpoint, [sample.inputs() for sample in samples], timeout=args.timeout)
        elapsed_ms = (time.perf_counter() - started) * 1000
    except (mnist_client.EndpointError, mnist_client.StackOutputsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    for sample, answer in zip(samples, answers, strict=True):
        verdict = "right" if answer == sample.label else "WRONG"
        print(mnist_client.render_digit(sample.pixels))
        print(f"held-out digit #{sample.index}: answer {answer}, true label {sample.label} -> {verdict}\n")
    correct = sum(answer == sample.label for sample, answer in zip(samples, answers, strict=True))
    host = f" (Host: {endpoint.host_header})" if endpoint.host_header else ""
    print(
        f"{correct}/{len(samples)} right ({correct / len(samples):.0%}) from {endpoint.url}{host}, "
        f"{endpoint.protocol.upper()}, one request in {elapsed_ms:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
