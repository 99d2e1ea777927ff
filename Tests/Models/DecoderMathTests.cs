using PoolAI.Decoding;
using static TorchSharp.torch;

namespace PoolAI.Tests.Models;

[TestClass]
public sealed class DecoderMathTests
{
    [TestMethod]
    public void ExpIsWithinOneUnitInTheLastPlaceOverItsRange()
    {
        var worst = 0.0;
        for (var x = DecoderMath.ExpMin; x <= DecoderMath.ExpMax; x += 0.0137f)
        {
            var exact = Math.Exp(x);
            worst = Math.Max(worst, Math.Abs(DecoderMath.Exp(x) - exact) / UnitInTheLastPlace(exact));
        }

        Assert.IsLessThanOrEqualTo(1.0, worst);
        Assert.AreEqual(1f, DecoderMath.Exp(0f));
    }

    [TestMethod]
    public void ExpClampsArgumentsOutsideItsRange()
    {
        Assert.AreEqual(DecoderMath.Exp(DecoderMath.ExpMin), DecoderMath.Exp(-1e4f));
        Assert.AreEqual(DecoderMath.Exp(DecoderMath.ExpMax), DecoderMath.Exp(float.MaxValue));
        Assert.IsTrue(float.IsNormal(DecoderMath.Exp(DecoderMath.ExpMax)));
    }

    [TestMethod]
    public void ErfIsWithinAbramowitzAndStegunsBoundPlusRounding()
    {
        // 7.1.26 promises 1.5e-7 in exact arithmetic; in floats, 1 − tail loses a few units of the tail (about 0.95) near
        // x = 0: the worst found on a grid 20 times finer is 4.9e-7, at x = ±0.048.
        var (inputs, outputs) = Grid(-6, 6, DecoderMath.Erf);
        var exact = Reference(inputs, x => x.erf());
        var worst = inputs.Select((_, i) => Math.Abs(outputs[i] - exact[i])).Max();
        Assert.IsLessThanOrEqualTo(5e-7, worst);
        Assert.AreEqual(-DecoderMath.Erf(0.7f), DecoderMath.Erf(-0.7f));
    }

    [TestMethod]
    public void GeluIsWithinAFewUnitsOfTorchsExactGelu()
    {
        // Torch's own CPU GELU uses the same erf formula; here the reference is its GELU in double precision.
        var (inputs, outputs) = Grid(-12, 12, DecoderMath.Gelu);
        var exact = Reference(inputs, x => nn.functional.gelu(x));
        for (var i = 0; i < inputs.Length; i++)
        {
            var bound = 2.5e-7 * Math.Max(1, Math.Abs(inputs[i]));
            Assert.IsLessThanOrEqualTo(bound, Math.Abs(outputs[i] - exact[i]), $"GELU({inputs[i]:R}) = {outputs[i]:R}, exact {exact[i]:R}");
        }
    }

    private static double UnitInTheLastPlace(double value) => Math.Pow(2, Math.Floor(Math.Log2(value)) - 23);

    private static (float[] Inputs, float[] Outputs) Grid(float from, float to, Func<float, float> function)
    {
        var inputs = Enumerable.Range(0, 24_001).Select(i => from + (to - from) * i / 24_000f).ToArray();
        return (inputs, inputs.Select(function).ToArray());
    }

    private static double[] Reference(float[] inputs, Func<Tensor, Tensor> function)
    {
        using var scope = NewDisposeScope();
        return function(tensor(inputs.Select(x => (double)x).ToArray(), dtype: float64)).data<double>().ToArray();
    }
}
