-- SAMPLE DATA: Treno, scenic railway lines and their stations (synthetic sample data;
-- stations are real, descriptions and figures are approximate). Portable SQL: the demo
-- builds it into SQLite; tests load it into PostgreSQL and MariaDB too.

CREATE TABLE municipality (id VARCHAR(40) PRIMARY KEY, name VARCHAR(100) NOT NULL, region VARCHAR(20) NOT NULL, country CHAR(2) NOT NULL);
CREATE TABLE station (id VARCHAR(40) PRIMARY KEY, municipality_id VARCHAR(40) NOT NULL REFERENCES municipality (id), name_it VARCHAR(200), name_fr VARCHAR(200), name_en VARCHAR(200), description_it VARCHAR(400), description_fr VARCHAR(400), description_en VARCHAR(400), lat NUMERIC(8, 5), lon NUMERIC(8, 5), updated_at VARCHAR(19));
CREATE TABLE line (id VARCHAR(40) PRIMARY KEY, name_it VARCHAR(200), name_fr VARCHAR(200), name_en VARCHAR(200), description_it VARCHAR(400), description_fr VARCHAR(400), description_en VARCHAR(400), length_km NUMERIC(6, 1));
CREATE TABLE line_stop (line_id VARCHAR(40) NOT NULL REFERENCES line (id), station_id VARCHAR(40) NOT NULL REFERENCES station (id), seq INTEGER NOT NULL, PRIMARY KEY (line_id, seq));

INSERT INTO municipality (id, name, region, country) VALUES
  ('m-nice', 'Nice', 'paca', 'FR'),
  ('m-sospel', 'Sospel', 'paca', 'FR'),
  ('m-breil', 'Breil-sur-Roya', 'paca', 'FR'),
  ('m-ventimiglia', 'Ventimiglia', 'liguria', 'IT'),
  ('m-touet', 'Touët-sur-Var', 'paca', 'FR'),
  ('m-puget', 'Puget-Théniers', 'paca', 'FR'),
  ('m-ajaccio', 'Ajaccio', 'corse', 'FR'),
  ('m-vivario', 'Vivario', 'corse', 'FR'),
  ('m-corte', 'Corte', 'corse', 'FR'),
  ('m-bastia', 'Bastia', 'corse', 'FR'),
  ('m-mandas', 'Mandas', 'sardegna', 'IT'),
  ('m-seui', 'Seui', 'sardegna', 'IT'),
  ('m-tortoli', 'Tortolì', 'sardegna', 'IT'),
  ('m-laspezia', 'La Spezia', 'liguria', 'IT'),
  ('m-riomaggiore', 'Riomaggiore', 'liguria', 'IT'),
  ('m-monterosso', 'Monterosso al Mare', 'liguria', 'IT'),
  ('m-levanto', 'Levanto', 'liguria', 'IT'),
  ('m-lucca', 'Lucca', 'toscana', 'IT'),
  ('m-castelnuovo', 'Castelnuovo di Garfagnana', 'toscana', 'IT'),
  ('m-aulla', 'Aulla', 'toscana', 'IT');

INSERT INTO station (id, municipality_id, name_it, name_fr, name_en, description_it, description_fr, description_en, lat, lon, updated_at) VALUES
  ('st-nice-ville', 'm-nice', 'Nizza Ville', 'Nice-Ville', 'Nice-Ville', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 43.70460, 7.26190, '2024-01-10T08:10:00'),
  ('st-sospel', 'm-sospel', 'Sospello', 'Sospel', 'Sospel', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 43.87820, 7.45110, '2024-02-11T08:11:00'),
  ('st-breil', 'm-breil', 'Breglio', 'Breil-sur-Roya', 'Breil-sur-Roya', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 43.93750, 7.51400, '2024-03-12T08:12:00'),
  ('st-ventimiglia', 'm-ventimiglia', 'Ventimiglia', 'Vintimille', 'Ventimiglia', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 43.79180, 7.60830, '2024-04-13T08:13:00'),
  ('st-nice-cp', 'm-nice', 'Nizza CP (Gare du Sud)', 'Nice CP (gare des Chemins de fer de Provence)', 'Nice CP (Provence railway station)', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 43.70970, 7.26250, '2024-05-14T08:14:00'),
  ('st-touet', 'm-touet', 'Touët-sur-Var', 'Touët-sur-Var', 'Touët-sur-Var', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 43.94420, 7.00060, '2024-06-15T08:15:00'),
  ('st-puget', 'm-puget', 'Puget-Théniers', 'Puget-Théniers', 'Puget-Théniers', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 43.95550, 6.89500, '2024-07-16T08:16:00'),
  ('st-ajaccio', 'm-ajaccio', 'Aiaccio', 'Ajaccio', 'Ajaccio', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 41.92580, 8.73870, '2024-08-17T08:17:00'),
  ('st-vizzavona', 'm-vivario', 'Vizzavona', 'Vizzavona', 'Vizzavona', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 42.12750, 9.13280, '2024-09-18T08:18:00'),
  ('st-corte', 'm-corte', 'Corte', 'Corte', 'Corte', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 42.29930, 9.16060, '2024-01-19T08:19:00'),
  ('st-bastia', 'm-bastia', 'Bastia', 'Bastia', 'Bastia', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 42.70340, 9.44500, '2024-02-10T08:20:00'),
  ('st-mandas', 'm-mandas', 'Mandas', 'Mandas', 'Mandas', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 39.65650, 9.12500, '2024-03-11T08:21:00'),
  ('st-seui', 'm-seui', 'Seui', 'Seui', 'Seui', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 39.84040, 9.32350, '2024-04-12T08:22:00'),
  ('st-arbatax', 'm-tortoli', 'Arbatax', 'Arbatax', 'Arbatax', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 39.94010, 9.70350, '2024-05-13T08:23:00'),
  ('st-laspezia', 'm-laspezia', 'La Spezia Centrale', 'La Spezia Centrale', 'La Spezia Centrale', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 44.11130, 9.82050, '2024-06-14T08:24:00'),
  ('st-riomaggiore', 'm-riomaggiore', 'Riomaggiore', 'Riomaggiore', 'Riomaggiore', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 44.09990, 9.73830, '2024-07-15T08:25:00'),
  ('st-monterosso', 'm-monterosso', 'Monterosso', 'Monterosso', 'Monterosso', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 44.14680, 9.65480, '2024-08-16T08:26:00'),
  ('st-levanto', 'm-levanto', 'Levanto', 'Levanto', 'Levanto', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 44.17010, 9.61200, '2024-09-17T08:27:00'),
  ('st-lucca', 'm-lucca', 'Lucca', 'Lucques', 'Lucca', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 43.83770, 10.50620, '2024-01-18T08:28:00'),
  ('st-castelnuovo', 'm-castelnuovo', 'Castelnuovo di Garfagnana', 'Castelnuovo di Garfagnana', 'Castelnuovo di Garfagnana', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 44.10840, 10.41090, '2024-02-19T08:29:00'),
  ('st-aulla', 'm-aulla', 'Aulla Lunigiana', 'Aulla Lunigiana', 'Aulla Lunigiana', 'Stazione ferroviaria. (Dato di esempio.)', 'Gare ferroviaire. (Donnée d''exemple.)', 'Railway station. (Sample data.)', 44.21400, 9.97230, '2024-03-10T08:30:00');

INSERT INTO line (id, name_it, name_fr, name_en, description_it, description_fr, description_en, length_km) VALUES
  ('tr-tenda', 'Ferrovia delle Alpi Marittime (Nizza–Breglio–Ventimiglia)', 'Ligne de Tende (Nice–Breil–Vintimille)', 'Tende line (Nice–Breil–Ventimiglia)', 'Linea di montagna tra Costa Azzurra e Liguria, con viadotti e gallerie elicoidali. (Dato di esempio.)', 'Ligne de montagne entre Côte d''Azur et Ligurie, avec viaducs et tunnels hélicoïdaux. (Donnée d''exemple.)', 'Mountain line between the Côte d''Azur and Liguria, with viaducts and spiral tunnels. (Sample data.)', 44.0),
  ('tr-pignes', 'Treno delle Pigne', 'Train des Pignes', 'Pine-cone train', 'Ferrovia a scartamento metrico della valle del Varo. (Dato di esempio.)', 'Chemin de fer à voie métrique de la vallée du Var. (Donnée d''exemple.)', 'Metre-gauge railway up the Var valley. (Sample data.)', 64.0),
  ('tr-corse', 'Ferrovia della Corsica (Aiaccio–Bastia)', 'Chemins de fer de la Corse (Ajaccio–Bastia)', 'Corsican railway (Ajaccio–Bastia)', 'Linea attraverso le montagne della Corsica, dal golfo di Aiaccio a Bastia. (Dato di esempio.)', 'Ligne à travers les montagnes corses, du golfe d''Ajaccio à Bastia. (Donnée d''exemple.)', 'Line across the Corsican mountains, from the Gulf of Ajaccio to Bastia. (Sample data.)', 158.0),
  ('tr-verde', 'Trenino Verde Mandas–Arbatax', 'Petit train vert Mandas–Arbatax', 'Green train Mandas–Arbatax', 'Linea storica turistica tra il Sarcidano e l''Ogliastra. (Dato di esempio.)', 'Ligne historique touristique entre le Sarcidano et l''Ogliastra. (Donnée d''exemple.)', 'Historic tourist line between Sarcidano and Ogliastra. (Sample data.)', 159.0),
  ('tr-cinqueterre', 'Treno delle Cinque Terre', 'Train des Cinque Terre', 'Cinque Terre train', 'Servizio tra La Spezia e Levanto che ferma in tutti i borghi delle Cinque Terre. (Dato di esempio.)', 'Service entre La Spezia et Levanto qui dessert tous les villages des Cinque Terre. (Donnée d''exemple.)', 'Service between La Spezia and Levanto calling at every Cinque Terre village. (Sample data.)', 22.0),
  ('tr-garfagnana', 'Ferrovia Lucca–Aulla della Garfagnana', 'Ligne Lucques–Aulla de la Garfagnana', 'Garfagnana railway Lucca–Aulla', 'Linea lungo la valle del Serchio tra le Apuane e l''Appennino. (Dato di esempio.)', 'Ligne le long de la vallée du Serchio entre les Apuanes et l''Apennin. (Donnée d''exemple.)', 'Line along the Serchio valley between the Apuan Alps and the Apennines. (Sample data.)', 90.0);

INSERT INTO line_stop (line_id, station_id, seq) VALUES
  ('tr-tenda', 'st-nice-ville', 1),
  ('tr-tenda', 'st-sospel', 2),
  ('tr-tenda', 'st-breil', 3),
  ('tr-tenda', 'st-ventimiglia', 4),
  ('tr-pignes', 'st-nice-cp', 1),
  ('tr-pignes', 'st-touet', 2),
  ('tr-pignes', 'st-puget', 3),
  ('tr-corse', 'st-ajaccio', 1),
  ('tr-corse', 'st-vizzavona', 2),
  ('tr-corse', 'st-corte', 3),
  ('tr-corse', 'st-bastia', 4),
  ('tr-verde', 'st-mandas', 1),
  ('tr-verde', 'st-seui', 2),
  ('tr-verde', 'st-arbatax', 3),
  ('tr-cinqueterre', 'st-laspezia', 1),
  ('tr-cinqueterre', 'st-riomaggiore', 2),
  ('tr-cinqueterre', 'st-monterosso', 3),
  ('tr-cinqueterre', 'st-levanto', 4),
  ('tr-garfagnana', 'st-lucca', 1),
  ('tr-garfagnana', 'st-castelnuovo', 2),
  ('tr-garfagnana', 'st-aulla', 3);
