using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace SpectralDiffusion.Worker.Evaluation;

/// <summary>
/// pytorch-fid's FID Inception V3 (the TF 2015-12-05 graph): torchvision's Inception3 with FIDInceptionA/C/E_1/E_2 blocks,
/// returning the 2048-d pool3 features. Parameter names are torchvision's, i.e. the keys of pt_inception-2015-12-05-6726825d.pth
/// (including <c>fc</c> with 1008 classes, which the features do not use).
/// </summary>
public sealed class FidInceptionV3 : Module<Tensor, Tensor>
{
    public const int FeatureDimension = 2048;
#pragma warning disable IDE1006 // field names are the state-dict keys
    readonly BasicConv2d Conv2d_1a_3x3, Conv2d_2a_3x3, Conv2d_2b_3x3, Conv2d_3b_1x1, Conv2d_4a_3x3;
    readonly FidInceptionA Mixed_5b, Mixed_5c, Mixed_5d;
    readonly InceptionB Mixed_6a;
    readonly FidInceptionC Mixed_6b, Mixed_6c, Mixed_6d, Mixed_6e;
    readonly InceptionD Mixed_7a;
    readonly FidInceptionE Mixed_7b, Mixed_7c;
    readonly Linear fc;
#pragma warning restore IDE1006

    /// <param name="inputSize">The side images are resized to (pytorch-fid: 299). Smaller values only make tests cheaper; the minimum is 75.</param>
    public FidInceptionV3(int inputSize = 299) : base(nameof(FidInceptionV3))
    {
        if (inputSize < 75) throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, "Inception V3 needs inputs of at least 75x75");
        InputSize = inputSize;
        Conv2d_1a_3x3 = new BasicConv2d(3, 32, (3, 3), stride: 2);
        Conv2d_2a_3x3 = new BasicConv2d(32, 32, (3, 3));
        Conv2d_2b_3x3 = new BasicConv2d(32, 64, (3, 3), padding: (1, 1));
        Conv2d_3b_1x1 = new BasicConv2d(64, 80, (1, 1));
        Conv2d_4a_3x3 = new BasicConv2d(80, 192, (3, 3));
        Mixed_5b = new FidInceptionA(192, poolFeatures: 32);
        Mixed_5c = new FidInceptionA(256, poolFeatures: 64);
        Mixed_5d = new FidInceptionA(288, poolFeatures: 64);
        Mixed_6a = new InceptionB(288);
        Mixed_6b = new FidInceptionC(768, channels7x7: 128);
        Mixed_6c = new FidInceptionC(768, channels7x7: 160);
        Mixed_6d = new FidInceptionC(768, channels7x7: 160);
        Mixed_6e = new FidInceptionC(768, channels7x7: 192);
        Mixed_7a = new InceptionD(768);
        Mixed_7b = new FidInceptionE(1280, maxPoolBranch: false);
        Mixed_7c = new FidInceptionE(2048, maxPoolBranch: true);
        fc = Linear(2048, 1008);
        RegisterComponents();
        eval();
    }

    public int InputSize { get; }

    /// <summary>(B, 3, H, W) images in [0, 1] (as pytorch-fid takes them) → (B, 2048) pool3 features.</summary>
    public override Tensor forward(Tensor images)
    {
        var x = F.interpolate(images, [InputSize, InputSize], mode: InterpolationMode.Bilinear, align_corners: false);
        x = 2 * x - 1;   // [0, 1] → [−1, 1]
        x = Conv2d_2b_3x3.call(Conv2d_2a_3x3.call(Conv2d_1a_3x3.call(x)));
        x = F.max_pool2d(x, 3, stride: 2);
        x = Conv2d_4a_3x3.call(Conv2d_3b_1x1.call(x));
        x = F.max_pool2d(x, 3, stride: 2);
        x = Mixed_5d.call(Mixed_5c.call(Mixed_5b.call(x)));
        x = Mixed_6e.call(Mixed_6d.call(Mixed_6c.call(Mixed_6b.call(Mixed_6a.call(x)))));
        x = Mixed_7c.call(Mixed_7b.call(Mixed_7a.call(x)));
        return F.adaptive_avg_pool2d(x, 1).flatten(1);
    }

    /// <summary>conv (no bias) → BatchNorm(eps 0.001) → ReLU, torchvision's BasicConv2d.</summary>
    sealed class BasicConv2d : Module<Tensor, Tensor>
    {
        readonly Conv2d conv;
        readonly BatchNorm2d bn;

        public BasicConv2d(long inChannels, long outChannels, (long, long) kernel, long stride = 1, (long, long)? padding = null) : base(nameof(BasicConv2d))
        {
            conv = Conv2d(inChannels, outChannels, kernel, stride: (stride, stride), padding: padding ?? (0, 0), bias: false);
            bn = BatchNorm2d(outChannels, eps: 0.001);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => F.relu(bn.call(conv.call(x)));
    }

    /// <summary>3×3 average pool that, like TensorFlow, leaves the zero padding out of the average (the FID patch).</summary>
    static Tensor TfAveragePool(Tensor x) => F.avg_pool2d(x, 3, stride: 1, padding: 1, count_include_pad: false);

    sealed class FidInceptionA : Module<Tensor, Tensor>
    {
        readonly BasicConv2d branch1x1, branch5x5_1, branch5x5_2, branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3, branch_pool;

        public FidInceptionA(long inChannels, long poolFeatures) : base(nameof(FidInceptionA))
        {
            branch1x1 = new BasicConv2d(inChannels, 64, (1, 1));
            branch5x5_1 = new BasicConv2d(inChannels, 48, (1, 1));
            branch5x5_2 = new BasicConv2d(48, 64, (5, 5), padding: (2, 2));
            branch3x3dbl_1 = new BasicConv2d(inChannels, 64, (1, 1));
            branch3x3dbl_2 = new BasicConv2d(64, 96, (3, 3), padding: (1, 1));
            branch3x3dbl_3 = new BasicConv2d(96, 96, (3, 3), padding: (1, 1));
            branch_pool = new BasicConv2d(inChannels, poolFeatures, (1, 1));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => cat([
            branch1x1.call(x),
            branch5x5_2.call(branch5x5_1.call(x)),
            branch3x3dbl_3.call(branch3x3dbl_2.call(branch3x3dbl_1.call(x))),
            branch_pool.call(TfAveragePool(x))], 1);
    }

    sealed class InceptionB : Module<Tensor, Tensor>
    {
        readonly BasicConv2d branch3x3, branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3;

        public InceptionB(long inChannels) : base(nameof(InceptionB))
        {
            branch3x3 = new BasicConv2d(inChannels, 384, (3, 3), stride: 2);
            branch3x3dbl_1 = new BasicConv2d(inChannels, 64, (1, 1));
            branch3x3dbl_2 = new BasicConv2d(64, 96, (3, 3), padding: (1, 1));
            branch3x3dbl_3 = new BasicConv2d(96, 96, (3, 3), stride: 2);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => cat([
            branch3x3.call(x),
            branch3x3dbl_3.call(branch3x3dbl_2.call(branch3x3dbl_1.call(x))),
            F.max_pool2d(x, 3, stride: 2)], 1);
    }

    sealed class FidInceptionC : Module<Tensor, Tensor>
    {
        readonly BasicConv2d branch1x1, branch7x7_1, branch7x7_2, branch7x7_3,
            branch7x7dbl_1, branch7x7dbl_2, branch7x7dbl_3, branch7x7dbl_4, branch7x7dbl_5, branch_pool;

        public FidInceptionC(long inChannels, long channels7x7) : base(nameof(FidInceptionC))
        {
            var c7 = channels7x7;
            branch1x1 = new BasicConv2d(inChannels, 192, (1, 1));
            branch7x7_1 = new BasicConv2d(inChannels, c7, (1, 1));
            branch7x7_2 = new BasicConv2d(c7, c7, (1, 7), padding: (0, 3));
            branch7x7_3 = new BasicConv2d(c7, 192, (7, 1), padding: (3, 0));
            branch7x7dbl_1 = new BasicConv2d(inChannels, c7, (1, 1));
            branch7x7dbl_2 = new BasicConv2d(c7, c7, (7, 1), padding: (3, 0));
            branch7x7dbl_3 = new BasicConv2d(c7, c7, (1, 7), padding: (0, 3));
            branch7x7dbl_4 = new BasicConv2d(c7, c7, (7, 1), padding: (3, 0));
            branch7x7dbl_5 = new BasicConv2d(c7, 192, (1, 7), padding: (0, 3));
            branch_pool = new BasicConv2d(inChannels, 192, (1, 1));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => cat([
            branch1x1.call(x),
            branch7x7_3.call(branch7x7_2.call(branch7x7_1.call(x))),
            branch7x7dbl_5.call(branch7x7dbl_4.call(branch7x7dbl_3.call(branch7x7dbl_2.call(branch7x7dbl_1.call(x))))),
            branch_pool.call(TfAveragePool(x))], 1);
    }

    sealed class InceptionD : Module<Tensor, Tensor>
    {
        readonly BasicConv2d branch3x3_1, branch3x3_2, branch7x7x3_1, branch7x7x3_2, branch7x7x3_3, branch7x7x3_4;

        public InceptionD(long inChannels) : base(nameof(InceptionD))
        {
            branch3x3_1 = new BasicConv2d(inChannels, 192, (1, 1));
            branch3x3_2 = new BasicConv2d(192, 320, (3, 3), stride: 2);
            branch7x7x3_1 = new BasicConv2d(inChannels, 192, (1, 1));
            branch7x7x3_2 = new BasicConv2d(192, 192, (1, 7), padding: (0, 3));
            branch7x7x3_3 = new BasicConv2d(192, 192, (7, 1), padding: (3, 0));
            branch7x7x3_4 = new BasicConv2d(192, 192, (3, 3), stride: 2);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => cat([
            branch3x3_2.call(branch3x3_1.call(x)),
            branch7x7x3_4.call(branch7x7x3_3.call(branch7x7x3_2.call(branch7x7x3_1.call(x)))),
            F.max_pool2d(x, 3, stride: 2)], 1);
    }

    /// <summary>FIDInceptionE_1 (TF average pool) or, with <c>maxPoolBranch</c>, FIDInceptionE_2 (the FID graph's max pool).</summary>
    sealed class FidInceptionE : Module<Tensor, Tensor>
    {
        readonly BasicConv2d branch1x1, branch3x3_1, branch3x3_2a, branch3x3_2b,
            branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3a, branch3x3dbl_3b, branch_pool;
        readonly bool maxPoolBranch;

        public FidInceptionE(long inChannels, bool maxPoolBranch) : base(maxPoolBranch ? "FIDInceptionE_2" : "FIDInceptionE_1")
        {
            this.maxPoolBranch = maxPoolBranch;
            branch1x1 = new BasicConv2d(inChannels, 320, (1, 1));
            branch3x3_1 = new BasicConv2d(inChannels, 384, (1, 1));
            branch3x3_2a = new BasicConv2d(384, 384, (1, 3), padding: (0, 1));
            branch3x3_2b = new BasicConv2d(384, 384, (3, 1), padding: (1, 0));
            branch3x3dbl_1 = new BasicConv2d(inChannels, 448, (1, 1));
            branch3x3dbl_2 = new BasicConv2d(448, 384, (3, 3), padding: (1, 1));
            branch3x3dbl_3a = new BasicConv2d(384, 384, (1, 3), padding: (0, 1));
            branch3x3dbl_3b = new BasicConv2d(384, 384, (3, 1), padding: (1, 0));
            branch_pool = new BasicConv2d(inChannels, 192, (1, 1));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var branch3x3 = branch3x3_1.call(x);
            var branch3x3dbl = branch3x3dbl_2.call(branch3x3dbl_1.call(x));
            var pooled = maxPoolBranch ? F.max_pool2d(x, 3, stride: 1, padding: 1) : TfAveragePool(x);
            return cat([
                branch1x1.call(x),
                cat([branch3x3_2a.call(branch3x3), branch3x3_2b.call(branch3x3)], 1),
                cat([branch3x3dbl_3a.call(branch3x3dbl), branch3x3dbl_3b.call(branch3x3dbl)], 1),
                branch_pool.call(pooled)], 1);
        }
    }
}
