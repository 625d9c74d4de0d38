// Typed clients of the four services over one transport.
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { UploadService } from "../gen/tsforge/upload/v1/upload_service_pb";
import { TrainingService } from "../gen/tsforge/training/v1/training_service_pb";
import { EvaluationService } from "../gen/tsforge/evaluation/v1/evaluation_service_pb";
import { ModelsService } from "../gen/tsforge/models/v1/models_service_pb";

export interface Clients {
  upload: Client<typeof UploadService>;
  training: Client<typeof TrainingService>;
  evaluation: Client<typeof EvaluationService>;
  models: Client<typeof ModelsService>;
}

export function createClients(transport: Transport): Clients {
  return {
    upload: createClient(UploadService, transport),
    training: createClient(TrainingService, transport),
    evaluation: createClient(EvaluationService, transport),
    models: createClient(ModelsService, transport),
  };
}
