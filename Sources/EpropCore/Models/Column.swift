/// One derived constant of a population: a value per neuron, or one value shared by all
/// (stride 0), so kernels index it the same way either way.
struct Column {
    let base: UnsafeMutablePointer<Double>
    let stride: Int

    @inline(__always) subscript(_ j: Int) -> Double { base[j &* stride] }

    var isUniform: Bool { stride == 0 }

    /// Neurons j ..< j + 4: one vector load, or the common value (a column's stride is 0
    /// or 1), instead of four strided loads.
    @inline(__always) func four(_ j: Int) -> SIMD4<Double> {
        stride == 0 ? SIMD4(repeating: base.pointee) : UnsafeRawPointer(base + j).loadUnaligned(as: SIMD4<Double>.self)
    }
}

/// Owns the storage of a population's columns; rebuilt whenever constants are derived.
final class ColumnStore {
    private var blocks: [UnsafeMutablePointer<Double>] = []

    deinit { reset() }

    func reset() {
        for block in blocks { block.deallocate() }
        blocks.removeAll()
    }

    /// Column of f(parameter `name`) for every neuron of `parameters`.
    func column(_ parameters: NeuronParameters, _ name: String, _ f: (Double) -> Double = { $0 }) -> Column {
        if let x = parameters.commonValue(name) { return constant(f(x)) }
        let block = UnsafeMutablePointer<Double>.allocate(capacity: parameters.size)
        parameters.fill(block, name, f)
        blocks.append(block)
        return Column(base: block, stride: 1)
    }

    /// Column combining two parameters per neuron, e.g. V_th − E_L.
    func column(_ parameters: NeuronParameters, _ a: String, _ b: String, _ f: (Double, Double) -> Double) -> Column {
        if let x = parameters.commonValue(a), let y = parameters.commonValue(b) { return constant(f(x, y)) }
        let xs = parameters.values(a), ys = parameters.values(b)
        let block = UnsafeMutablePointer<Double>.allocate(capacity: parameters.size)
        for j in 0..<parameters.size { block[j] = f(xs[j], ys[j]) }
        blocks.append(block)
        return Column(base: block, stride: 1)
    }

    func constant(_ x: Double) -> Column {
        let block = UnsafeMutablePointer<Double>.allocate(capacity: 1)
        block[0] = x
        blocks.append(block)
        return Column(base: block, stride: 0)
    }
}
