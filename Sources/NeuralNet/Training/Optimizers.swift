/// Updates parameters from their accumulated gradients.
public protocol Optimizer: AnyObject {
    /// η, which a schedule may change between steps.
    var learningRate: Float { get set }
    func step()
}

/// SGD with momentum, PyTorch's formulation (weight decay as L2 added to the gradient):
///     g ← ∇ + λ·w,   v ← μ·v + g  (v = g on the first step),   w ← w − η·v
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    private var velocity: [[Float]]
    private var started = false

    public init(parameters: [Parameter], learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 0) {
        self.parameters = parameters.filter(\.isTrainable)
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        velocity = self.parameters.map { [Float](repeating: 0, count: $0.count) }
    }

    public func step() {
        for (index, p) in parameters.enumerated() {
            let (lr, mu, decay, first) = (learningRate, momentum, weightDecay, !started)
            p.value.withUnsafeMutableBufferPointer { w in
                p.gradient.withUnsafeBufferPointer { g in
                    velocity[index].withUnsafeMutableBufferPointer { v in
                        for i in w.indices {
                            let grad = g[i] + decay * w[i]
                            v[i] = first ? grad : mu * v[i] + grad
                            w[i] -= lr * v[i]
                        }
                    }
                }
            }
        }
        started = true
    }
}

/// Adam (Kingma & Ba), PyTorch's formulation with L2 weight decay:
///     g ← ∇ + λ·w,  m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,
///     w ← w − η · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    private var first: [[Float]], second: [[Float]]
    private var steps = 0

    public init(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.parameters = parameters.filter(\.isTrainable)
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        first = self.parameters.map { [Float](repeating: 0, count: $0.count) }
        second = first
    }

    /// The moment estimates and the step count: what a resumed run needs to continue as
    /// the uninterrupted one would.
    public var moments: (first: [[Float]], second: [[Float]], steps: Int) {
        get { (first, second, steps) }
        set {
            precondition(newValue.first.map(\.count) == first.map(\.count) && newValue.second.map(\.count) == second.map(\.count),
                         "moments of other parameters")
            (first, second, steps) = newValue
        }
    }

    public func step() {
        steps += 1
        let correction1 = 1 - powf(beta1, Float(steps)), correction2 = 1 - powf(beta2, Float(steps))
        for (index, p) in parameters.enumerated() {
            let (lr, b1, b2, eps, decay) = (learningRate, beta1, beta2, epsilon, weightDecay)
            p.value.withUnsafeMutableBufferPointer { w in
                p.gradient.withUnsafeBufferPointer { g in
                    first[index].withUnsafeMutableBufferPointer { m in
                        second[index].withUnsafeMutableBufferPointer { v in
                            for i in w.indices {
                                let grad = g[i] + decay * w[i]
                                m[i] = b1 * m[i] + (1 - b1) * grad
                                v[i] = b2 * v[i] + (1 - b2) * grad * grad
                                w[i] -= lr * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + eps)
                            }
                        }
                    }
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
