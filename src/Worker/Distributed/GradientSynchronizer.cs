using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// Data parallel over an <see cref="ICollective"/>: rank 0's parameters and buffers are broadcast at start,
/// and before every optimiser step the gradients are concatenated into buckets, all-reduced and divided by the world size.
/// With every rank holding the mean gradient of its shard, W ranks at batch B step exactly like one rank at batch W·B
/// under a mean-reduced loss.
/// TorchSharp 0.107 has no tensor gradient hooks, so all-reduce cannot start during backward; overlap instead pipelines
/// buckets (reduce k on a background thread while flattening k+1 and copying back k−1). Whether that pays depends on
/// the machine (spare cores, memory bandwidth), so <see cref="GradientOverlap.Auto"/> measures both ways on the first
/// steps and keeps the faster, the same on every rank (<see cref="OverlapTrial"/>); the gradients are the same bit for
/// bit either way.
/// When the collective offers registered memory (<see cref="IRegisteredBuffers"/>), the buckets are flattened into
/// tensors there (<see cref="RegisteredBucketLayout"/>), which it all-reduces without staging copies; buckets that do
/// not fit are concatenated into ordinary tensors as without it. Either way the sums are the same, bit for bit.
/// </summary>
/// <param name="clock">times the synchronisations for <see cref="GradientOverlap.Auto"/> (tests inject one).</param>
public sealed class GradientSynchronizer(ICollective collective, GradientSynchronizerOptions? options = null, TimeProvider? clock = null) : IDisposable
{
    readonly GradientSynchronizerOptions options = (options ?? new GradientSynchronizerOptions()).Validated();
    readonly TimeProvider clock = clock ?? TimeProvider.System;
    RegisteredBucketLayout? layout;
    OverlapTrial? trial;

    /// <summary>Raised once, on the synchronising thread, when <see cref="GradientOverlap.Auto"/> has chosen.</summary>
    public event Action<GradientOverlapChoice>? OverlapChosen;

    /// <summary>The mode <see cref="GradientOverlap.Auto"/> chose; null while measuring, and for an explicit mode.</summary>
    public GradientOverlapChoice? OverlapChoice { get; private set; }

    public ICollective Collective { get; } = collective ?? throw new ArgumentNullException(nameof(collective));

    /// <summary>Makes every rank's parameters and buffers equal to rank 0's.</summary>
    public void BroadcastParameters(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        BroadcastTensors(module.parameters().Cast<Tensor>().Concat(module.buffers()));
    }

    /// <summary>Makes every rank's <paramref name="tensors"/> equal to rank 0's (bucketed like the gradients).</summary>
    public void BroadcastTensors(IEnumerable<Tensor> tensors)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var bucket in Buckets(tensors.ToList()))
        {
            var flat = Flatten(bucket);
            Collective.Broadcast(flat, root: 0);
            CopyBack(flat, bucket);
        }
    }

    /// <summary>Replaces each parameter's gradient by the mean over all ranks; a parameter without a gradient counts as zero.</summary>
    public void SynchronizeGradients(IEnumerable<Parameter> parameters)
    {
        var trainable = parameters.Where(p => p.requires_grad).ToList();
        MaterialiseMissingGradients(trainable);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var buckets = Buckets(trainable.Select(p => p.grad!).ToList());
        var registered = Layout(buckets);
        var overlap = Overlaps(buckets.Count);
        var started = clock.GetTimestamp();
        if (overlap) ReducePipelined(buckets, registered);
        else
            for (var i = 0; i < buckets.Count; i++)
            {
                var flat = Flatten(buckets[i], registered?[i]);
                Collective.AllReduceSum(flat);
                DivideByWorldSize(flat);
                CopyBack(flat, buckets[i]);
            }
        var finished = clock.GetTimestamp();
        if (trial is not null) RecordTrialStep((finished - started) / (double)clock.TimestampFrequency, buckets[0][0].device);
    }

    /// <summary>Whether this synchronisation pipelines its buckets: the explicit mode, the choice, or the trial's next step.</summary>
    bool Overlaps(int bucketCount)
    {
        if (options.Overlap != GradientOverlap.Auto) return options.Overlap == GradientOverlap.On;
        if (OverlapChoice is { } choice) return choice.Overlap;
        if (bucketCount < 2 || Collective.WorldSize < 2)
        {
            // Every rank derives the same buckets, so every rank takes this branch alike.
            Choose(new GradientOverlapChoice(false, double.NaN, double.NaN,
                Collective.WorldSize < 2 ? "one rank: nothing to all-reduce" : "one gradient bucket: nothing to overlap"));
            return false;
        }
        trial ??= new OverlapTrial(options.OverlapWarmupSteps, options.OverlapTrialSteps);
        return trial.NextOverlaps;
    }

    /// <summary>Records a trial step; after the last one, sums every rank's medians through the collective and chooses.</summary>
    void RecordTrialStep(double seconds, Device device)
    {
        trial!.Record(seconds);
        if (!trial.Finished) return;
        var (off, on) = trial.Medians();
        using var sums = tensor(new[] { off, on }, dtype: ScalarType.Float64, device: device);
        Collective.AllReduceSum(sums);
        using var host = sums.cpu();
        var summed = host.data<double>().ToArray();
        trial = null;
        Choose(OverlapTrial.Choose(summed[0], summed[1], Collective.WorldSize));
    }

    void Choose(GradientOverlapChoice choice)
    {
        OverlapChoice = choice;
        OverlapChosen?.Invoke(choice);
    }

    /// <summary>The registered layout of the gradient buckets the last synchronisation used (null when the collective has no registered memory).</summary>
    public RegisteredBucketLayout? RegisteredLayout => layout;

    /// <summary>Returns the registered bucket tensors to the collective's region.</summary>
    public void Dispose()
    {
        layout?.Dispose();
        layout = null;
    }

    /// <summary>The registered flat tensors for these buckets: the previous layout while the buckets keep their shapes, else a new one.</summary>
    RegisteredBucketLayout? Layout(List<List<Tensor>> buckets)
    {
        if (Collective is not IRegisteredBuffers { RegisteredBytes: > 0 } registered || Collective.WorldSize < 2) return null;
        var shapes = buckets.Select(RegisteredBucketLayout.BucketShape.Of).ToList();
        if (layout is not null && layout.Matches(shapes)) return layout;
        layout?.Dispose();
        return layout = RegisteredBucketLayout.Allocate(registered, shapes);
    }

    void ReducePipelined(List<List<Tensor>> buckets, RegisteredBucketLayout? registered)
    {
        Task? reducing = null;
        (Tensor Flat, List<Tensor> Bucket)? inFlight = null;
        for (var i = 0; i < buckets.Count; i++)
        {
            var bucket = buckets[i];
            var flat = Flatten(bucket, registered?[i]);
            if (inFlight is var (previousFlat, previousBucket))
            {
                reducing!.GetAwaiter().GetResult();
                reducing = ReduceInBackground(flat);
                DivideByWorldSize(previousFlat);
                CopyBack(previousFlat, previousBucket);
            }
            else
            {
                reducing = ReduceInBackground(flat);
            }
            inFlight = (flat, bucket);
        }
        if (inFlight is var (lastFlat, lastBucket))
        {
            reducing!.GetAwaiter().GetResult();
            DivideByWorldSize(lastFlat);
            CopyBack(lastFlat, lastBucket);
        }
    }

    /// <summary>
    /// Only the all-reduce runs on the background thread (the CPU collectives sum raw memory); the division stays on the
    /// training thread, so torch never runs operations on two threads of one rank at once.
    /// </summary>
    Task ReduceInBackground(Tensor flat) =>
        Task.Factory.StartNew(() => Collective.AllReduceSum(flat), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    void DivideByWorldSize(Tensor flat)
    {
        if (Collective.WorldSize > 1) flat.div_(Collective.WorldSize);
    }

    /// <summary>Consecutive tensors of one dtype and device, closed once they reach the bucket size; every rank derives the same plan.</summary>
    List<List<Tensor>> Buckets(List<Tensor> tensors)
    {
        var buckets = new List<List<Tensor>>();
        List<Tensor>? current = null;
        long bytes = 0;
        foreach (var tensor in tensors)
        {
            var size = tensor.NumberOfElements * tensor.ElementSize;
            // Device is a class without value equality (each .device is a new object): compare its type and index.
            if (current is null || bytes >= options.BucketBytes || current[0].dtype != tensor.dtype
                || current[0].device_type != tensor.device_type || current[0].device_index != tensor.device_index)
            {
                current = [];
                buckets.Add(current);
                bytes = 0;
            }
            current.Add(tensor);
            bytes += size;
        }
        return buckets;
    }

    static Tensor Flatten(List<Tensor> bucket) => bucket.Count == 1 ? bucket[0].reshape(-1).clone() : cat(bucket.Select(t => t.reshape(-1)).ToList());

    /// <summary>The bucket's tensors one after another in <paramref name="into"/> (a registered flat tensor), or concatenated into a new one.</summary>
    static Tensor Flatten(List<Tensor> bucket, Tensor? into)
    {
        if (into is null) return Flatten(bucket);
        long offset = 0;
        foreach (var tensor in bucket)
        {
            into.narrow(0, offset, tensor.NumberOfElements).view_as(tensor).copy_(tensor);
            offset += tensor.NumberOfElements;
        }
        return into;
    }

    static void CopyBack(Tensor flat, List<Tensor> bucket)
    {
        long offset = 0;
        foreach (var tensor in bucket)
        {
            tensor.copy_(flat.narrow(0, offset, tensor.NumberOfElements).view_as(tensor));
            offset += tensor.NumberOfElements;
        }
    }

    /// <summary>TorchSharp cannot assign .grad, so a zero gradient is accumulated through autograd for parameters backward did not reach.</summary>
    static void MaterialiseMissingGradients(List<Parameter> parameters)
    {
        var missing = parameters.Where(p => p.grad is null).ToList();
        if (missing.Count == 0) return;
        using var scope = NewDisposeScope();
        var zero = stack(missing.Select(p => p.sum().to_type(ScalarType.Float64)).ToList()).sum().mul(0);
        zero.backward();
    }
}
