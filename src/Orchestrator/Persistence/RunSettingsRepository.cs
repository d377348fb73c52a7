using Npgsql;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>The run_settings table: one row per attempt, what its rank 0 resolved.</summary>
public static class RunSettingsRepository
{
    public static Task UpsertAsync(NpgsqlConnection connection, Guid jobId, RunSettings settings, CancellationToken cancellation) =>
        connection.ExecuteAsync("""
            INSERT INTO run_settings (job_id, attempt, beta_start, beta_end, timesteps, parameterization, schedule_source, scale_factor,
                                      scale_factor_source, first_stage, model_config, teacher_config, gate_init)
            VALUES (@job, @attempt, @beta_start, @beta_end, @timesteps, @parameterization, @schedule_source, @scale_factor,
                    @scale_factor_source, @first_stage, @model_config, @teacher_config, @gate_init)
            ON CONFLICT (job_id, attempt) DO UPDATE SET
                beta_start = excluded.beta_start, beta_end = excluded.beta_end, timesteps = excluded.timesteps,
                parameterization = excluded.parameterization, schedule_source = excluded.schedule_source, scale_factor = excluded.scale_factor,
                scale_factor_source = excluded.scale_factor_source, first_stage = excluded.first_stage, model_config = excluded.model_config,
                teacher_config = excluded.teacher_config, gate_init = excluded.gate_init, reported_at = now()
            """, cancellation, ("job", jobId), ("attempt", settings.Attempt), ("beta_start", settings.BetaStart), ("beta_end", settings.BetaEnd),
            ("timesteps", settings.Timesteps), ("parameterization", settings.Parameterization), ("schedule_source", settings.ScheduleSource),
            ("scale_factor", settings.ScaleFactor is { } scale ? scale : DBNull.Value), ("scale_factor_source", settings.ScaleFactorSource),
            ("first_stage", settings.FirstStage), ("model_config", settings.ModelConfig), ("teacher_config", settings.TeacherConfig),
            ("gate_init", settings.GateInit));

    /// <summary>The settings each attempt of the job reported, oldest attempt first.</summary>
    public static Task<List<RunSettings>> ListAsync(NpgsqlConnection connection, Guid jobId, CancellationToken cancellation) =>
        connection.QueryAsync("""
            SELECT attempt, beta_start, beta_end, timesteps, parameterization, schedule_source, scale_factor, scale_factor_source,
                   first_stage, model_config, teacher_config, gate_init
            FROM run_settings WHERE job_id = @job ORDER BY attempt
            """, r => new RunSettings(r.GetInt32(0), r.GetDouble(1), r.GetDouble(2), r.GetInt32(3), r.GetString(4), r.GetString(5),
                r.IsDBNull(6) ? null : r.GetDouble(6), r.GetString(7), r.GetString(8), r.GetString(9), r.GetString(10), r.GetString(11)),
            cancellation, ("job", jobId));
}
