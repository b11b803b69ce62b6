//! Test and coverage reports: parsing JUnit and the other formats into CodeBuild's report shape.
